from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExperimentsConfig(AppConfig):
    """Experiments, variants, assignment, exposures, conversions and analysis."""

    name = "experiments"
    verbose_name = _("Experiments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from experiments import receivers  # noqa: F401 - connects the receivers
