from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommerceConfig(AppConfig):
    """The product catalogue fed by the shop: products, and their price and stock history."""

    name = "personalization.commerce"
    label = "commerce"
    verbose_name = _("Commerce")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from personalization.commerce import receivers  # noqa: F401 - connects the receivers
