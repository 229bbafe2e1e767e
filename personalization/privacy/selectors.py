"""The visitor's data rights that read: everything held about a visitor, for export."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q

from personalization.models import Consent, Visitor

# The export names each kind of row by its model; models that moved to their own app keep the
# name the export has always used, so readers of earlier exports read this one the same way.
EXPORT_LABELS = {
    "events.Event": "personalization.Event",
    "journeys.JourneyEntry": "personalization.JourneyEntry",
    "journeys.JourneyMessage": "personalization.JourneyMessage",
}
MEMBER_FIELDS = ("username", "email", "first_name", "last_name", "date_joined", "last_login")


def _rows_referring_to(visitor: Visitor) -> dict[str, list[dict]]:
    """Every row of any app that points at `visitor` by a foreign key (events, experiment
    assignments, merged anonymous visitors ...), found from the models so none is forgotten."""
    related: dict[str, list[dict]] = {}
    for relation in Visitor._meta.get_fields(include_hidden=True):
        if not (relation.one_to_many and relation.auto_created):
            continue
        model = relation.related_model
        rows = model._default_manager.filter(**{relation.field.name: visitor}).order_by("pk")
        label = EXPORT_LABELS.get(model._meta.label, model._meta.label)
        related[f"{label}.{relation.field.name}"] = list(rows.values())
    return related


def visitor_export(*, visitor: Visitor) -> dict[str, Any]:
    """All data held about a visitor (and its member account, if any) as plain data."""
    row = Visitor.objects.filter(pk=visitor.pk).values().first() if visitor.pk else None
    member = None
    if visitor.user_id:
        user = get_user_model().objects.filter(pk=visitor.user_id).values(*MEMBER_FIELDS).first()
        profile = _member_profile(visitor.user_id)
        member = {"account": user, "profile": profile}
    consent = Q(visitor_uuid=visitor.uuid)
    if visitor.user_id:
        consent |= Q(user_id=visitor.user_id)
    return {
        "visitor": row or {"uuid": str(visitor.uuid)},
        "member": member,
        "consent": list(Consent.objects.filter(consent).values()),
        "related": _rows_referring_to(visitor) if visitor.pk else {},
    }


def _member_profile(user_id: int) -> dict | None:
    """The profile a member declared (the `profile` relation the members app gives the user
    model), found through the relation so privacy needs no import of the app above it."""
    try:
        relation = get_user_model()._meta.get_field("profile")
    except FieldDoesNotExist:
        return None
    rows = relation.related_model._default_manager.filter(**{relation.field.name: user_id})
    return rows.values().first()
