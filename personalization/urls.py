"""Site URLs of personalization that are not pages: consent and unsubscribe."""

from django.urls import path

from personalization import consent_views

urlpatterns = [
    path("consent/", consent_views.consent_save, name="personalization_consent"),
    path(
        "unsubscribe/<str:token>/",
        consent_views.unsubscribe,
        name="personalization_unsubscribe",
    ),
]
