from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JourneysConfig(AppConfig):
    """Journeys: triggers, steps, entries, email templates, on-site messages, webhooks."""

    name = "personalization.journeys"
    label = "journeys"
    verbose_name = _("Journeys")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from personalization.journeys import receivers  # noqa: F401 - connects the receivers
