from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    """Experiments, variants, assignment, exposures, conversions and analysis."""

    name = "experiments"
    verbose_name = "Experiments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from experiments import receivers  # noqa: F401 - connects the receivers
