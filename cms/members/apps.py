from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    """Member accounts on the site: the profile a member declares, sign-up, log-in, profile."""

    name = "cms.members"
    label = "members"
    verbose_name = _("Members")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cms.members import receivers  # noqa: F401  (connects the log-in receiver)
