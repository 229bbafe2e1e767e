"""What the events endpoint accepts and returns: batches of events, each checked here (types,
typed properties, sizes, clocks), so bad input is a 400 naming the index and field before any
event is accepted."""

from __future__ import annotations

import datetime
import functools
import json

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import serializers

from personalization.api.serializers import MAX_PAGE_ID, StorableCharField, StrictIntegerField
from personalization.events.models import SERVER_ONLY, EventType
from personalization.events.properties import (
    EVENT_PROPERTIES,
    MAX_DEPTH,
    PropertiesRefused,
    json_bytes_at_most,
    json_path,
    storable,
    typed_properties,
    typed_property_problems,
)

MAX_PROPERTIES_BYTES = 4096


MAX_BATCH = 100


CLOCK_SKEW = datetime.timedelta(minutes=5)


# Events that move purchase rules or experiment sign-up goals: only the shop's own server
# (a staff API token) may report them, never a visitor's browser.
SERVER_EVENT_TYPES = frozenset({EventType.PURCHASE, EventType.SIGN_UP})


def properties_help() -> str:
    """The `properties` field as the API schema documents it, from the one table of typed
    properties (`personalization.events.properties`)."""
    lines = [
        f"A JSON object of at most {MAX_PROPERTIES_BYTES} bytes, nested at most {MAX_DEPTH} "
        "levels, numbers finite. Typed properties are checked (400 naming "
        "`properties.<name>`): on every event type, "
        + "; ".join(p.describe() for p in typed_properties(""))
        + "."
    ]
    for event_type, specs in EVENT_PROPERTIES.items():
        lines.append(f"{event_type}: " + "; ".join(p.describe() for p in specs) + ".")
    return "\n\n".join(lines)


def _refusal(problem: PropertiesRefused) -> serializers.ValidationError:
    """A properties problem as DRF errors, keyed by its place inside `properties`."""
    if not problem.path:
        return serializers.ValidationError(problem.message)
    return serializers.ValidationError({json_path(problem.path): [problem.message]})


class EventSerializer(serializers.Serializer):
    """One behaviour event as a frontend reports it."""

    type = serializers.ChoiceField(
        choices=EventType.choices,
        help_text="The event's type. "
        + ", ".join(sorted(SERVER_ONLY))
        + " are recorded only by the site itself and refused here (400 naming `type`); "
        + ", ".join(sorted(SERVER_EVENT_TYPES))
        + " only from a staff API token (the shop's server).",
    )
    name = StorableCharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The goal or offer name (required for goal and offer_impression).",
    )
    page = StrictIntegerField(
        min_value=1,
        max_value=MAX_PAGE_ID,
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of the page the event happened on.",
    )
    properties = serializers.DictField(required=False, default=dict, help_text=properties_help())
    occurred_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When it happened (default: now); at most 5 minutes in the future.",
    )
    idempotency_key = StorableCharField(
        min_length=1,
        max_length=64,
        required=False,
        allow_null=True,
        default=None,
        help_text="A retry with the same key is stored once.",
    )

    def validate_properties(self, value: dict) -> dict:
        try:
            bound = json_bytes_at_most(value)
        except PropertiesRefused as problem:
            raise _refusal(problem) from None
        if bound > MAX_PROPERTIES_BYTES:  # only then encode it to measure exactly
            encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            size = len(encoded.encode())
            if size > MAX_PROPERTIES_BYTES:
                raise serializers.ValidationError(
                    f"Properties must be at most {MAX_PROPERTIES_BYTES} bytes of JSON (got {size})."
                )
        return value

    def validate_occurred_at(self, value: datetime.datetime | None):
        if value is None:
            return None
        now = timezone.now()
        if value > now + CLOCK_SKEW:
            raise serializers.ValidationError("Cannot be more than 5 minutes in the future.")
        if value < now - datetime.timedelta(days=settings.EVENT_RETENTION_DAYS):
            raise serializers.ValidationError("Is older than the event retention period.")
        return value

    def validate(self, attrs: dict) -> dict:
        needs_name = (EventType.GOAL, EventType.OFFER_IMPRESSION)
        if attrs["type"] in needs_name and not attrs.get("name"):
            raise serializers.ValidationError({"name": [gettext("Required for this event type.")]})
        if attrs["type"] in SERVER_ONLY:
            raise serializers.ValidationError(
                {
                    "type": [
                        gettext("The site records this event itself; it cannot be sent to the API.")
                    ]
                }
            )
        user = self.context.get("user")
        if attrs["type"] in SERVER_EVENT_TYPES and not (user and user.is_staff):
            raise serializers.ValidationError(
                {
                    "type": [
                        gettext("Only the shop's server (a staff API token) may report this event.")
                    ]
                }
            )
        problems = {
            json_path(p.path): [p.message]
            for p in typed_property_problems(attrs["type"], attrs["properties"])
        }
        if problems:
            raise serializers.ValidationError({"properties": problems})
        return attrs


EVENT_TYPES = frozenset(EventType.values)


NAMED_EVENT_TYPES = frozenset({EventType.GOAL, EventType.OFFER_IMPRESSION})


def _plain_text(value, *, max_length: int) -> bool:
    """A string EventSerializer keeps exactly as sent: no edge whitespace to trim, storable."""
    return (
        type(value) is str
        and len(value) <= max_length
        and value == value.strip()
        and (storable(value))
    )


@functools.cache
def _event_fields():
    """EventSerializer's fields, bound once per process and only read: a serializer binds
    (deep-copies) its fields per instance, which cost more than checking a batch."""
    return EventSerializer().fields


def event_quickly_validated(item, validator: EventSerializer) -> dict | None:
    """What `validator.run_validation(item)` returns when `item` is plainly valid (the common
    case), in a fraction of DRF's per-field cost; None when in any doubt, and then the
    serializer decides and words the errors. Never accepts what the serializer refuses
    (tests/api/test_event_validation.py compares the two on generated input)."""
    if type(item) is not dict:
        return None
    fields = _event_fields()  # limits come from the serializer, so the two cannot drift apart
    kind, name = item.get("type"), item.get("name", "")
    if type(kind) is not str or kind not in EVENT_TYPES:
        return None
    if not _plain_text(name, max_length=fields["name"].max_length) or (
        kind in NAMED_EVENT_TYPES and not name
    ):
        return None
    if kind in SERVER_ONLY:
        return None
    if kind in SERVER_EVENT_TYPES:
        user = validator.context.get("user")
        if not (user and user.is_staff):
            return None
    page = item.get("page")
    page_field = fields["page"]
    if page is not None and not (
        type(page) is int and page_field.min_value <= page <= page_field.max_value
    ):
        return None
    key = item.get("idempotency_key")
    if key is not None and not (
        key and _plain_text(key, max_length=fields["idempotency_key"].max_length)
    ):
        return None
    properties = item.get("properties", {})
    if type(properties) is not dict:
        return None
    occurred_at = item.get("occurred_at")
    try:
        properties = validator.validate_properties(properties)
        if next(typed_property_problems(kind, properties), None) is not None:
            return None
        if occurred_at is not None:
            occurred_at = validator.validate_occurred_at(
                fields["occurred_at"].run_validation(occurred_at)
            )
    except serializers.ValidationError:
        return None
    return {
        "type": kind,
        "name": name,
        "page": page,
        "properties": properties,
        "occurred_at": occurred_at,
        "idempotency_key": key,
    }


class EventsAcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="How many events were queued.")


class EventErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(
        allow_null=True,
        help_text="Position of the event in the batch (0 if one); null for the body as a whole.",
    )
    field = serializers.CharField()
    message = serializers.CharField()


class EventsRejectedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = EventErrorSerializer(many=True)
