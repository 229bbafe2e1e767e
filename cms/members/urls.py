from django.urls import path

from cms.members import favourites, views

urlpatterns = [
    path("signup/", views.sign_up, name="account_signup"),
    path("login/", views.LoginView.as_view(), name="account_login"),
    path("logout/", views.LogoutView.as_view(), name="account_logout"),
    path("profile/", views.profile, name="account_profile"),
    path("favourites/", favourites.favourites, name="account_favourites"),
    path("password-reset/", views.password_reset, name="account_password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="account_password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        views.password_reset_complete,
        name="account_password_reset_complete",
    ),
]
