"""Writes the visitor endpoints need beyond `personalization.services`."""

from __future__ import annotations

from django.db import transaction

from personalization.models import Visitor


@transaction.atomic
def visitor_erase(*, visitor: Visitor) -> int:
    """Forget a visitor: its row (traits, rollups, cart, offer counts), its events and every row
    of other apps that refers to it (experiment assignments, exposures, conversions cascade),
    and the anonymous visitors once merged into it. Aggregates without a visitor stay.

    Returns how many visitor rows were deleted. The member account itself is not touched."""
    if visitor.pk is None:
        return 0
    label = Visitor._meta.label
    _, merged = Visitor.objects.filter(merged_into_id=visitor.pk).delete()
    _, own = Visitor.objects.filter(pk=visitor.pk).delete()
    return merged.get(label, 0) + own.get(label, 0)
