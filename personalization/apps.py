from django.apps import AppConfig


class PersonalizationConfig(AppConfig):
    """Visitors, member profiles, events, segments and the per-request resolver."""

    name = "personalization"
    verbose_name = "Personalization"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from personalization import checks, receivers  # noqa: F401 - registers, connects
