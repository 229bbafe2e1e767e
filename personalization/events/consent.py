"""Which events a visitor's consent lets us keep: everything with analytics consent, only the
strictly necessary ones (a purchase, a cart, a sign-up) without it."""

from __future__ import annotations

from personalization.consent import consent_defaults
from personalization.events.models import EventType

NECESSARY_EVENT_TYPES = frozenset(
    {
        EventType.PURCHASE,
        EventType.CHECKOUT,
        EventType.SIGN_UP,
        EventType.ADD_TO_CART,
        EventType.REMOVE_FROM_CART,
    }
)


def event_allowed(event_type: str, choices: dict[str, bool]) -> bool:
    """Whether an event of this type may be stored under these choices."""
    return choices.get("analytics", True) or event_type in NECESSARY_EVENT_TYPES


def request_allows_event(request, event_type: str) -> bool:
    """Whether this request's visitor lets us store an event of this type (cookie only)."""
    choices = getattr(request, "consent", None) or consent_defaults()
    return event_allowed(event_type, choices)
