from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    """What visitors do: events, the ingest pipeline (stream, drain, workers), rollups and
    retention."""

    name = "personalization.events"
    label = "events"
    verbose_name = _("Events")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from personalization.events import (  # noqa: F401 - connect the receivers
            receivers,
            recommendations,
        )
