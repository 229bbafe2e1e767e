"""Site URLs of privacy: saving consent and the one-click unsubscribe."""

from django.urls import path

from personalization.privacy import views

urlpatterns = [
    path("consent/", views.consent_save, name="personalization_consent"),
    path(
        "unsubscribe/<str:token>/",
        views.unsubscribe,
        name="personalization_unsubscribe",
    ),
]
