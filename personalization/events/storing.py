"""Storing a batch of events: each payload parsed and checked, the consent, visitor and
idempotency rules applied, the new events inserted in bulk (COPY on PostgreSQL) and folded into
their visitors' rollups, and `event_stored` / `events_stored` sent, all in one transaction.
The stream that feeds it (publish, drain, dead letters) is `personalization.events.ingest`."""

from __future__ import annotations

import datetime
import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from personalization.consent import consent_defaults
from personalization.events.consent import event_allowed
from personalization.events.models import Event, EventType
from personalization.events.properties import PropertiesRefused, properties_check, storable
from personalization.events.rollups import apply_event, fields_changed_by
from personalization.events.signals import event_stored, events_stored
from personalization.models import Consent, Visitor

logger = logging.getLogger(__name__)

EVENT_TYPES = frozenset(EventType.values)
MAX_KEY_LENGTH = 64


# PAYLOADS
# ------------------------------------------------------------------------------


def with_idempotency_key(payload: dict) -> dict:
    """The payload with an idempotency key (a new random one when the client gave none)."""
    key = payload.get("idempotency_key")
    if key and len(str(key)) <= MAX_KEY_LENGTH:
        return payload
    # token_hex: the same 32 random hex digits as uuid4().hex, without building a UUID (a
    # fifth of the events endpoint's per-event cost).
    return {
        **payload,
        "idempotency_key": str(key)[:MAX_KEY_LENGTH] if key else secrets.token_hex(16),
    }


@dataclass
class Incoming:
    """One validated event on its way into the tables."""

    visitor_uuid: uuid.UUID
    user_id: int | None
    type: str
    name: str
    page_id: int | None
    section: str | None
    properties: dict
    occurred_at: datetime.datetime
    key: str
    anonymous: bool = False  # sent by someone not logged in (see `event_payload`)
    visitor_id: int | None = None
    event: Event | None = field(default=None, repr=False)


class InvalidEvent(ValueError):
    """A payload that cannot become an event (unknown type, bad id or time)."""


def _optional_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise InvalidEvent("ids are integers")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidEvent(f"not an id: {value!r}") from exc


def _parse_time(value: Any) -> datetime.datetime:
    if not value:
        return timezone.now()
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidEvent(f"not an ISO time: {value!r}") from exc
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _storable_text(value: Any, *, limit: int, field: str) -> str:
    text = str(value)[:limit]
    if not storable(text):
        raise InvalidEvent(f"{field} contains characters that cannot be stored")
    return text


def _properties(payload: dict) -> dict:
    """The payload's properties, checked as the events API checks them (so an entry that
    bypassed the API fails here, alone, rather than in the database with its batch)."""
    properties = payload.get("properties") or {}
    if not isinstance(properties, dict):
        raise InvalidEvent("properties must be an object")
    try:
        properties_check(payload["type"], properties)
    except PropertiesRefused as exc:
        raise InvalidEvent(f"properties.{exc}") from None
    return properties


def parse(payload: dict) -> Incoming:
    """Check and convert one queued payload; `InvalidEvent` when it cannot be stored."""
    if not isinstance(payload, dict):
        raise InvalidEvent("not an object")
    if payload.get("type") not in EVENT_TYPES:
        raise InvalidEvent(f"unknown event type {payload.get('type')!r}")
    try:
        visitor_uuid = uuid.UUID(str(payload.get("visitor")))
    except ValueError as exc:
        raise InvalidEvent("not a visitor id") from exc
    section = payload.get("section")
    key = payload.get("idempotency_key") or secrets.token_hex(16)
    return Incoming(
        visitor_uuid=visitor_uuid,
        user_id=_optional_int(payload.get("user_id")),
        type=payload["type"],
        name=_storable_text(payload.get("name") or "", limit=100, field="name"),
        page_id=_optional_int(payload.get("page_id")),
        section=_storable_text(section, limit=100, field="section") if section else None,
        properties=_properties(payload),
        occurred_at=_parse_time(payload.get("occurred_at")),
        key=_storable_text(key, limit=MAX_KEY_LENGTH, field="idempotency_key"),
        anonymous=payload.get("anonymous") is True,
    )


def _parse_all(payloads: Iterable[dict], refused: list | None = None) -> list[Incoming]:
    events = []
    for payload in payloads:
        try:
            events.append(parse(payload))
        except InvalidEvent as exc:
            logger.error("Event left out, it cannot be stored (%s): %.300r", exc, payload)
            if refused is not None:
                refused.append((payload, f"cannot be stored: {exc}"))
    return events


# STORING A BATCH
# ------------------------------------------------------------------------------


def store(payloads: list[dict], *, refused: list[tuple[dict, str]] | None = None) -> int:
    """Store a batch of payloads exactly once, in transactions of at most EVENTS_BATCH_SIZE
    events; returns how many were newly stored. A payload that cannot become an event is left
    out and logged (and listed in `refused`, with the reason, when given)."""
    events = _parse_all(payloads, refused)
    size = settings.EVENTS_BATCH_SIZE
    return sum(_store_batch(events[i : i + size]) for i in range(0, len(events), size))


@transaction.atomic
def _store_batch(events: list[Incoming]) -> int:
    if not events:
        return 0
    _drop_unknown_references(events)
    rows = _known_visitors(events)
    events = _consented(events, rows)
    if not events:
        return 0
    attach = _assign_visitors(events, rows)
    visitors = {
        v.pk: v
        for v in Visitor.objects.select_for_update()
        .filter(pk__in={e.visitor_id for e in events})
        .order_by("pk")
    }
    for visitor_id, user_id in attach.items():
        visitors[visitor_id].user_id = user_id
    changed = {visitor_id: {"user"} for visitor_id in attach}
    new = _insert_new(events)
    if not new:
        _save_rollups(visitors, changed)
        return 0
    tags = _page_tags({e.page_id for e in new if e.type == EventType.PAGE_VIEW and e.page_id})
    for incoming in sorted(new, key=lambda e: e.occurred_at):
        visitor = visitors[incoming.visitor_id]
        apply_event(visitor, incoming.event, incoming.section, tags.get(incoming.page_id, []))
        changed.setdefault(incoming.visitor_id, set()).update(fields_changed_by(incoming.type))
    _save_rollups(visitors, changed)
    _after_store(new, visitors)
    return len(new)


def _save_rollups(visitors: dict[int, Visitor], changed: dict[int, set[str]]) -> None:
    """Write back the fields the batch changed, one statement shape per set of changed fields
    (a batch of page views from many visitors updates 5 columns, not the 13 rollups).
    `bulk_update`'s CASE WHEN over a dozen fields costs seconds per batch in Python alone."""
    shapes: dict[tuple[str, ...], list[Visitor]] = {}
    for visitor_id in sorted(changed):
        shapes.setdefault(tuple(sorted(changed[visitor_id])), []).append(visitors[visitor_id])
    with connection.cursor() as cursor:
        db = cursor.db  # the connection itself (`connection` is a proxy, looked up on each use)
        update = _update_from_values if db.vendor == "postgresql" else _update_each
        for names, group in shapes.items():
            fields = [Visitor._meta.get_field(name) for name in names]
            rows = [
                [f.get_db_prep_save(getattr(v, f.attname), db) for f in fields] + [v.pk]
                for v in group
            ]
            update(cursor, fields, rows)


UPDATE_CHUNK = 1000  # visitors per statement: 15,000 parameters at most (the limit is 65,535)


def _update_from_values(cursor, fields: list, rows: list[list]) -> None:
    """PostgreSQL: the visitors' rows of (field values…, id) in one `UPDATE … FROM (VALUES …)`
    per chunk, parsed and planned once. A prepared UPDATE per visitor (its query text differs
    per row with client-side binding, so each one was parsed and planned) cost the database
    ~65 µs a visitor, most of its work for a batch."""
    db = cursor.db
    quote, table = db.ops.quote_name, db.ops.quote_name(Visitor._meta.db_table)
    row = "(" + ", ".join([f"%s::{f.db_type(db)}" for f in fields] + ["%s::bigint"]) + ")"
    names = [f"c{i}" for i in range(len(fields))]
    pairs = zip(fields, names, strict=True)
    assignments = ", ".join(f"{quote(f.column)} = d.{name}" for f, name in pairs)
    for start in range(0, len(rows), UPDATE_CHUNK):  # within any bound on parameters
        chunk = rows[start : start + UPDATE_CHUNK]
        sql = (
            f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(chunk))}) "
            f"AS d({', '.join(names)}, id) WHERE {table}.{quote('id')} = d.id"
        )
        cursor.execute(sql, [value for values in chunk for value in values])


def _update_each(cursor, fields: list, rows: list[list]) -> None:
    """Other databases (the embedded SQLite): one UPDATE per visitor, through executemany."""
    quote = cursor.db.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    table = quote(Visitor._meta.db_table)
    cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {quote('id')} = %s", rows)


def _after_store(new: list[Incoming], visitors: dict[int, Visitor]) -> None:
    """Other apps (journeys, experiments) hear of each event and of the batch once, in the
    same transaction."""
    stored = [(incoming.event, visitors[incoming.visitor_id]) for incoming in new]
    for event, visitor in stored:
        event_stored.send(sender=Event, event=event, visitor=visitor)
    events_stored.send(sender=Event, stored=stored)


def _drop_unknown_references(events: list[Incoming]) -> None:
    """Pages and members that no longer exist are forgotten, not a reason to fail the batch."""
    from wagtail.models import Page

    page_ids = {e.page_id for e in events if e.page_id}
    if page_ids:
        known = set(Page.objects.filter(pk__in=page_ids).values_list("pk", flat=True))
        for event in events:
            if event.page_id and event.page_id not in known:
                event.page_id = None
    user_ids = {e.user_id for e in events if e.user_id}
    if user_ids:
        known = set(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", flat=True))
        for event in events:
            if event.user_id and event.user_id not in known:
                event.user_id = None


def _known_visitors(events: list[Incoming]) -> list[Visitor]:
    uuids = {e.visitor_uuid for e in events}
    user_ids = {e.user_id for e in events if e.user_id}
    lookup = Q(uuid__in=uuids) | Q(user_id__in=user_ids) if user_ids else Q(uuid__in=uuids)
    return list(Visitor.objects.filter(lookup).only("id", "uuid", "user_id", "merged_into_id"))


def _consented(events: list[Incoming], rows: list[Visitor]) -> list[Incoming]:
    """Events the visitor's consent allows (only strictly necessary ones without analytics)."""
    by_uuid = {v.uuid: v for v in rows}
    uuids = {e.visitor_uuid for e in events}
    user_ids = {e.user_id for e in events if e.user_id} | {v.user_id for v in rows if v.user_id}
    lookup = (
        Q(visitor_uuid__in=uuids) | Q(user_id__in=user_ids)
        if user_ids
        else Q(visitor_uuid__in=uuids)
    )
    records = list(Consent.objects.filter(lookup))
    if not records and consent_defaults()["analytics"]:
        return events
    for_user = {r.user_id: r.choices for r in records if r.user_id}
    for_uuid = {r.visitor_uuid: r.choices for r in records if r.visitor_uuid}
    defaults = consent_defaults()
    kept = []
    for event in events:
        known = by_uuid.get(event.visitor_uuid)
        user_id = event.user_id or (known.user_id if known is not None else None)
        choices = for_user.get(user_id) or for_uuid.get(event.visitor_uuid) or defaults
        if event_allowed(event.type, choices):
            kept.append(event)
    return kept


def _assign_visitors(events: list[Incoming], rows: list[Visitor]) -> dict[int, int]:
    """Set each event's visitor: the member's own, else the cookie's (created when new, followed
    when merged). Returns the anonymous visitors that become a member's: {visitor id: user id}."""
    by_uuid = {v.uuid: v for v in rows}
    by_user = {v.user_id: v for v in rows if v.user_id}
    missing = {
        e.visitor_uuid
        for e in events
        if e.visitor_uuid not in by_uuid and not (e.user_id and e.user_id in by_user)
    }
    if missing:
        Visitor.objects.bulk_create(
            [Visitor(uuid=u) for u in sorted(missing, key=str)], ignore_conflicts=True
        )
        for visitor in Visitor.objects.filter(uuid__in=missing).only(
            "id", "uuid", "user_id", "merged_into_id"
        ):
            by_uuid[visitor.uuid] = visitor
            if visitor.user_id:
                by_user.setdefault(visitor.user_id, visitor)
    _give_strangers_new_visitors(events, by_uuid, by_user)
    attach: dict[int, int] = {}
    for event in events:
        if event.user_id and event.user_id in by_user:
            event.visitor_id = by_user[event.user_id].pk
            continue
        visitor = by_uuid[event.visitor_uuid]
        if visitor.merged_into_id:
            event.visitor_id = visitor.merged_into_id
            continue
        if event.user_id and visitor.user_id is None and visitor.pk not in attach:
            attach[visitor.pk] = event.user_id
            by_user[event.user_id] = visitor
        event.visitor_id = visitor.pk
    return attach


def _give_strangers_new_visitors(
    events: list[Incoming], by_uuid: dict[uuid.UUID, Visitor], by_user: dict[int, Visitor]
) -> None:
    """An event naming a member's visitor but sent anonymously or by another member (a browser
    or token the member used before) never lands in the member's history: as `load_visitor`
    decides for pages, it gets a new visitor (one per named visitor and sender in the batch),
    which becomes the sender's own when the sender is a member. Events from our own server
    code and the shop's server (neither anonymous nor a member's) go where they name."""
    strangers: dict[tuple[uuid.UUID, int | None], list[Incoming]] = {}
    for event in events:
        if event.user_id and event.user_id in by_user:
            continue
        named = by_uuid[event.visitor_uuid]
        if named.merged_into_id or named.user_id in (None, event.user_id):
            continue
        if event.user_id is None and not event.anonymous:
            continue
        strangers.setdefault((event.visitor_uuid, event.user_id), []).append(event)
    if not strangers:
        return
    fresh = Visitor.objects.bulk_create([Visitor(uuid=uuid.uuid4()) for _ in strangers])
    for visitor, group in zip(fresh, strangers.values(), strict=True):
        by_uuid[visitor.uuid] = visitor
        for event in group:
            event.visitor_uuid = visitor.uuid


INSERT_COLUMNS = (
    "visitor_id",
    "type",
    "name",
    "page_id",
    "properties",
    "occurred_at",
    "received_at",
    "idempotency_key",
)
INSERT_CHUNK = 1000


def _insert_new(events: list[Incoming]) -> list[Incoming]:
    """Insert the batch's events in bulk, letting the database skip every (visitor, idempotency
    key) it already holds (`INSERT … ON CONFLICT DO NOTHING RETURNING`), so a redelivered batch
    adds nothing and no lookup is needed first; returns the new events, each with its row."""
    unique: dict[tuple[int, str], Incoming] = {}
    for incoming in events:
        unique.setdefault((incoming.visitor_id, incoming.key), incoming)
    received = timezone.now()
    insert = _insert_by_copy if connection.vendor == "postgresql" else _insert_by_values
    new = []
    order = [f.attname for f in Event._meta.concrete_fields]
    for pk, visitor_id, key in insert(list(unique.values()), received):
        incoming = unique[(visitor_id, key)]
        values = {
            "id": pk,
            "visitor_id": visitor_id,
            "type": incoming.type,
            "name": incoming.name,
            "page_id": incoming.page_id,
            "properties": incoming.properties,
            "occurred_at": incoming.occurred_at,
            "received_at": received,
            "idempotency_key": key,
        }
        incoming.event = Event(*(values[name] for name in order))  # positional: Django's fast path
        new.append(incoming)
    return new


def _insert_sql(source: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in INSERT_COLUMNS)
    return (
        f"INSERT INTO {quote(Event._meta.db_table)} ({columns}) {source} "
        "ON CONFLICT DO NOTHING RETURNING id, visitor_id, idempotency_key"
    )


# PostgreSQL: COPY the batch into a session-local staging table (fast, binary-safe), then
# insert from it; the staging table empties itself at commit.
_STAGING = """CREATE TEMPORARY TABLE IF NOT EXISTS incoming_event (
    visitor_id bigint, type varchar(32), name varchar(100), page_id integer,
    properties jsonb, occurred_at timestamptz, received_at timestamptz,
    idempotency_key varchar(64)
) ON COMMIT DELETE ROWS"""


def _insert_by_copy(pending: list[Incoming], received) -> list[tuple]:
    columns = ", ".join(INSERT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(_STAGING)
        with cursor.cursor.copy(f"COPY incoming_event ({columns}) FROM STDIN") as copy:
            for e in pending:
                copy.write_row(
                    (
                        e.visitor_id,
                        e.type,
                        e.name,
                        e.page_id,
                        json.dumps(e.properties, cls=DjangoJSONEncoder),
                        e.occurred_at,
                        received,
                        e.key,
                    )
                )
        cursor.execute(_insert_sql(f"SELECT {columns} FROM incoming_event"))
        rows = cursor.fetchall()
        cursor.execute("DELETE FROM incoming_event")
    return rows


def _insert_by_values(pending: list[Incoming], received) -> list[tuple]:
    """Other databases (the embedded SQLite): multi-row VALUES, a chunk at a time."""
    ops, properties = connection.ops, Event._meta.get_field("properties")
    row = "(" + ", ".join(["%s"] * len(INSERT_COLUMNS)) + ")"
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(pending), INSERT_CHUNK):
            chunk = pending[start : start + INSERT_CHUNK]
            params: list[Any] = []
            for e in chunk:
                params += [
                    e.visitor_id,
                    e.type,
                    e.name,
                    e.page_id,
                    properties.get_db_prep_save(e.properties, connection),
                    ops.adapt_datetimefield_value(e.occurred_at),
                    ops.adapt_datetimefield_value(received),
                    e.key,
                ]
            cursor.execute(_insert_sql(f"VALUES {', '.join([row] * len(chunk))}"), params)
            rows += cursor.fetchall()
    return rows


_tag_cache: dict[int, tuple[float, list[str]]] = {}
TAG_CACHE_SECONDS = 60


def _page_tags(page_ids: set[int]) -> dict[int, list[str]]:
    """Tag slugs of each page (cached a minute per process: tags change rarely)."""
    from wagtail.models import Page

    now = time.monotonic()
    result, missing = {}, []
    for page_id in page_ids:
        cached = _tag_cache.get(page_id)
        if cached is not None and now - cached[0] < TAG_CACHE_SECONDS:
            result[page_id] = cached[1]
        else:
            missing.append(page_id)
    for page in Page.objects.filter(pk__in=missing).specific():
        tags = getattr(page, "tags", None)
        names = [slugify(name) for name in tags.names()] if tags is not None else []
        _tag_cache[page.pk] = (now, names)
        result[page.pk] = names
    return result
