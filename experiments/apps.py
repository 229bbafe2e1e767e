from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    """Experiments, variants, assignment, exposures, conversions and analysis."""

    name = "experiments"
    verbose_name = "Experiments"
    default_auto_field = "django.db.models.BigAutoField"
