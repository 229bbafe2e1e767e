"""Signal receivers: keep visitor identity across log-in/out and the segment version fresh."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject

from personalization.api.authentication import erasure_noted
from personalization.middleware import rotate_visitor_cookie
from personalization.models import ErasedVisitor, SavedGroup, Segment
from personalization.resolver import bump_segment_set_version
from personalization.services import visitor_log_in


@receiver(user_logged_in)
def merge_visitor_on_log_in(sender, request, user, **kwargs) -> None:
    """The anonymous history of this browser joins the member's visitor; the cookie follows."""
    if request is None or not hasattr(request, "visitor_uuid"):
        return
    visitor = visitor_log_in(user=user, anonymous_uuid=request.visitor_uuid)
    request.visitor_uuid = visitor.uuid
    request.visitor_cookie_uuid = visitor.uuid
    request.visitor = SimpleLazyObject(lambda: visitor)
    request.__dict__.pop("_personalization_resolution", None)


@receiver(user_logged_out)
def forget_visitor_on_log_out(sender, request, user, **kwargs) -> None:
    """After log-out this browser is a new anonymous visitor: nothing personal stays on screen."""
    if request is not None and hasattr(request, "visitor_uuid"):
        rotate_visitor_cookie(request)


@receiver([post_save, post_delete], sender=Segment)
@receiver([post_save, post_delete], sender=SavedGroup)
def segments_changed(sender, **kwargs) -> None:
    """Every process recompiles its segments: now, and again once the change is committed
    (a process that recompiled in between would otherwise keep the old rows)."""
    if kwargs.get("raw"):
        return
    bump_segment_set_version()
    transaction.on_commit(bump_segment_set_version)


@receiver(post_save, sender=ErasedVisitor)
def visitor_erasure_noted(sender, instance, raw: bool = False, **kwargs) -> None:
    """An erased visitor's tokens die at once, also where "not erased" was cached."""
    if not raw:
        erasure_noted(instance.uuid)
        transaction.on_commit(lambda: erasure_noted(instance.uuid))
