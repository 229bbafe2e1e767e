from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    """Wagtail pages, blocks, the member site and the headless page API."""

    name = "cms"
    verbose_name = _("Site content")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cms import renditions, signals  # noqa: F401 - connects the receivers
        from cms.api import recommendations
        from cms.panels import personalization_tabs_install

        renditions.install()
        recommendations.install()
        personalization_tabs_install(self)
