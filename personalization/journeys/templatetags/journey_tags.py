"""`{% journey_notification %}`: the page's slot for a journey's on-site message."""

from __future__ import annotations

from django import template

from personalization.journeys.onsite import onsite_message_take

register = template.Library()


@register.inclusion_tag("journeys/notification.html", takes_context=True)
def journey_notification(context, slot: str = "page") -> dict:
    """The visitor's waiting on-site message (once), or nothing; no query when none waits."""
    request = context.get("request")
    message = onsite_message_take(request) if request is not None else None
    return {"message": message, "slot": slot}
