"""A member's site language is remembered when they log in on the site (sign-up logs in too)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation

from cms.members.services import member_language_remember

# Log-ins to these are the staff's, in the admin's language, not a member's site language.
_NOT_THE_SITE = ("/admin/", "/django-admin/")


@receiver(user_logged_in, dispatch_uid="members-remember-language")
def remember_language_on_log_in(sender, request, user, **kwargs) -> None:
    if request is None or request.path.startswith(_NOT_THE_SITE):
        return
    member_language_remember(user=user, language=translation.get_language())
