"""What visitors did: the event vocabulary and the stored events."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personalization.models import Visitor


class EventType(models.TextChoices):
    PAGE_VIEW = "page_view", _("Page view")
    ADD_TO_CART = "add_to_cart", _("Add to cart")
    REMOVE_FROM_CART = "remove_from_cart", _("Remove from cart")
    CHECKOUT = "checkout", _("Checkout")
    PURCHASE = "purchase", _("Purchase")
    SIGN_UP = "sign_up", _("Sign-up")
    GOAL = "goal", _("Custom goal")
    OFFER_IMPRESSION = "offer_impression", _("Offer shown")
    PRODUCT_VIEW = "product_view", _("Product view")
    FAVOURITE_ADDED = "favourite_added", _("Favourite added")
    FAVOURITE_REMOVED = "favourite_removed", _("Favourite removed")
    RECOMMENDATION_IMPRESSION = "recommendation_impression", _("Recommendation shown")
    RECOMMENDATION_CLICK = "recommendation_click", _("Recommendation clicked")


# Types only this site's own server code records, from the facts it holds: `favourite_added` /
# `favourite_removed` from the `favourite_changed` signal (the favourite rows are the truth) and
# `recommendation_impression` when a Recommendations block is served. The events API refuses
# them from anyone, staff tokens included (a posted one would make the event log lie); the
# server records them with `events_track`, which is not the API's serializer.
SERVER_ONLY = frozenset(
    {
        EventType.FAVOURITE_ADDED,
        EventType.FAVOURITE_REMOVED,
        EventType.RECOMMENDATION_IMPRESSION,
    }
)


class Event(models.Model):
    """One thing a visitor did. Written in batches by the event job, never by a page view."""

    # No index of its own: the (visitor, occurred_at) index and the idempotency constraint both
    # lead with it, and a third index would only cost every insert.
    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    type = models.CharField(max_length=32, choices=EventType.choices)
    name = models.CharField(max_length=100, blank=True, help_text="Goal or offer name.")
    page = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    properties = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(auto_now_add=True)
    # NULL, not "", when absent: the unique constraint must only bind events that carry a key.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["visitor", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="unique_event_idempotency_key",
            )
        ]
        indexes = [
            models.Index(fields=["visitor", "occurred_at"]),
            models.Index(fields=["type", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_type_display()} by {self.visitor_id} at {self.occurred_at:%Y-%m-%d %H:%M}"
        )
