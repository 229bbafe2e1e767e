from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PersonalizationConfig(AppConfig):
    """Visitors, member profiles, events, segments and the per-request resolver."""

    name = "personalization"
    verbose_name = _("Personalization")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from personalization import checks, receivers  # noqa: F401 - registers, connects
