"""The visitor's data rights that write: erasure."""

from __future__ import annotations

from django.db import transaction

from personalization.api.authentication import erasure_noted
from personalization.models import ErasedVisitor, Visitor


@transaction.atomic
def visitor_erase(*, visitor: Visitor) -> int:
    """Forget a visitor: its row (traits, rollups, cart, offer counts), its events and every row
    of other apps that refers to it (experiment assignments, exposures, conversions cascade),
    and the anonymous visitors once merged into it. Aggregates without a visitor stay.

    Every erased id is recorded (`ErasedVisitor`), so visitor tokens naming it are refused from
    now on and nothing new is filed under it. Returns how many visitor rows were deleted. The
    member account itself is not touched."""
    merged_ids = Visitor.objects.filter(merged_into_id=visitor.pk) if visitor.pk else None
    erased = [visitor.uuid, *(merged_ids.values_list("uuid", flat=True) if merged_ids else [])]
    ErasedVisitor.objects.bulk_create(
        [ErasedVisitor(uuid=erased_uuid) for erased_uuid in erased], ignore_conflicts=True
    )
    for erased_uuid in erased:  # tokens cached as "not erased" die now (bulk sends no signal)
        erasure_noted(erased_uuid)
    if visitor.pk is None:
        return 0
    label = Visitor._meta.label
    _, merged = Visitor.objects.filter(merged_into_id=visitor.pk).delete()
    _, own = Visitor.objects.filter(pk=visitor.pk).delete()
    return merged.get(label, 0) + own.get(label, 0)
