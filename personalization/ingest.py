"""The event pipeline: from a request to committed rows, at least once into Redis and exactly
once into the tables.

    request ──XADD──▶ Redis stream ──XREADGROUP──▶ drain job (`events` queue) ──▶ PostgreSQL
                      (one entry per call,          a batch of entries, one        bulk insert,
                       compact JSON)                transaction, then XACK+XDEL    rollups, signals

Producing (`publish`, on the request path). Each `events_track` call becomes one stream entry
(`XADD`), in the same Lua round trip that checks whether a drain job is already waiting in the
`events` queue; only when none is does the producer enqueue one. So a burst of events costs one
Redis call each and a handful of RQ jobs, and every free worker picks up a drain job while a
backlog remains (a drain enqueues its successor before it leaves a backlog behind).

Consuming (`drain`, an RQ job). A drain job reads batches with `XREADGROUP` under a consumer
group: read entries stay in the group's pending list until acknowledged, which happens only after
their transaction commits. A worker that dies mid-batch (kill -9, OOM, lost machine) leaves its
entries pending; the next drain takes them over with `XAUTOCLAIM` once they have been idle for
`EVENTS_CLAIM_IDLE_SECONDS`, and the periodic `drain_events` job makes sure one runs. An entry
delivered `EVENTS_MAX_DELIVERIES` times without success is moved to a dead-letter stream
(`<stream>:dead`) with the error, logged, and acknowledged, so one bad entry never blocks the rest.

Exactly once into the tables. Every event carries an idempotency key (the client's, or one
generated before the event leaves the process, so a redelivered entry carries the same key). The
batch locks its visitors' rows (in id order, no deadlocks), skips keys already stored, and the
unique constraint (visitor, idempotency_key) backs that up in the database. Rollups are folded in
and `event_stored` sent only for events that were newly stored, in the same transaction.

Failure paths. Redis unreachable (or answering errors): the producer stores the batch
synchronously in the request and logs a warning, then skips Redis for
`EVENTS_REDIS_RETRY_SECONDS` — never dropped. No `REDIS_URL` (embedded mode): once the
transaction commits, events go to the process's writer thread, which stores them off the request
path, several calls' events in one batch (`config.embedded`). A database outage during a drain
leaves entries pending to be retried. Any other failure is isolated: a batch that fails is stored
entry by entry, an entry that fails event by event, and only the events that cannot be stored
(malformed, or failing whatever the exception) go to the dead-letter stream, logged.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from redis import Redis
from redis.exceptions import RedisError, ResponseError

from config import embedded
from personalization.event_properties import PropertiesRefused, properties_check, storable
from personalization.models import Event, EventType, Visitor
from personalization.rollups import apply_event, fields_changed_by
from personalization.signals import event_stored, events_stored

logger = logging.getLogger(__name__)

EVENT_TYPES = frozenset(EventType.values)
GROUP = "ingest"
FIELD = b"p"
DRAIN_JOB_PREFIX = "events-drain-"
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
    """Journeys react to the batch; other apps hear of each event once (same transaction)."""
    from personalization.journeys import journeys_on_events

    journeys_on_events(events=[e.event for e in new])
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
    from personalization.consent import consent_defaults, event_allowed
    from personalization.models import Consent

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


# PRODUCING
# ------------------------------------------------------------------------------

# XADD the entry, then answer 1 when no drain job is waiting in the RQ queue (the flag holds
# the id of the last drain job enqueued; LPOS finds it only while it is still queued).
_PUBLISH = """
redis.call('XADD', KEYS[1], '*', ARGV[1], ARGV[2])
local queued = redis.call('GET', KEYS[2])
if queued and redis.call('LPOS', KEYS[3], queued) then return 0 end
return 1
"""

EVENTS_QUEUE_KEY = "rq:queue:events"  # RQ's list of the `events` queue's waiting job ids
_clients: dict[str, tuple[Redis, Any]] = {}
_clients_lock = threading.Lock()
_redis_down_until = 0.0


def _client_and_script() -> tuple[Redis, Any]:
    url = settings.REDIS_URL
    found = _clients.get(url)
    if found is None:
        with _clients_lock:
            found = _clients.get(url)
            if found is None:
                client = Redis.from_url(
                    url,
                    socket_connect_timeout=settings.EVENTS_REDIS_TIMEOUT,
                    socket_timeout=max(
                        settings.EVENTS_REDIS_TIMEOUT, settings.EVENTS_IDLE_SECONDS + 5
                    ),
                    health_check_interval=30,
                )
                found = _clients[url] = (client, client.register_script(_PUBLISH))
    return found


def redis_client() -> Redis:
    """A Redis connection for the pipeline, with short timeouts (one pool per process)."""
    return _client_and_script()[0]


def stream_keys() -> tuple[str, str, str]:
    """(stream, drain-flag, dead-letter stream) names."""
    stream = settings.EVENTS_STREAM
    return stream, f"{stream}:drain-queued", f"{stream}:dead"


def publish(payloads: list[dict]) -> None:
    """Hand payloads to Redis in one call; store them synchronously when Redis fails. Without
    Redis they go to the embedded writer (`config.embedded`), joined with other events."""
    global _redis_down_until
    if settings.JOBS_INLINE:
        embedded.run(store, (payloads,), batch=True)
        return
    if time.monotonic() < _redis_down_until:
        store(payloads)
        return
    body = json.dumps(payloads, separators=(",", ":"), default=str)
    try:
        client, script = _client_and_script()
        stream, flag, _ = stream_keys()
        needs_drain = script(keys=[stream, flag, EVENTS_QUEUE_KEY], args=[FIELD, body])
        if needs_drain:
            drain_enqueue(client)
    except RedisError as exc:
        _redis_down_until = time.monotonic() + settings.EVENTS_REDIS_RETRY_SECONDS
        logger.warning(
            "Redis unavailable (%s): storing %d event(s) synchronously", exc, len(payloads)
        )
        store(payloads)


def _events_queue(client: Redis):
    from rq import Queue

    return Queue("events", connection=client)


def drain_enqueue(client: Redis | None = None) -> str:
    """Put a drain job on the `events` queue and remember its id; returns the id."""
    from personalization.jobs import drain_events

    client = client or redis_client()
    job_id = f"{DRAIN_JOB_PREFIX}{uuid.uuid4().hex}"
    _events_queue(client).enqueue_call(
        drain_events,
        job_id=job_id,
        timeout=settings.EVENTS_DRAIN_SECONDS + 600,  # a last batch may take its time
        result_ttl=60,
        failure_ttl=7 * 24 * 3600,
    )
    client.set(stream_keys()[1], job_id, ex=24 * 3600)
    return job_id


# CONSUMING
# ------------------------------------------------------------------------------


def _ensure_group(client: Redis, stream: str) -> None:
    try:
        client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def drain(*, max_seconds: float | None = None) -> int:
    """Store what waits in the stream (and what a crashed worker left), batch by batch, until
    the stream is empty or `max_seconds` have passed; returns how many events were new."""
    _check_database()
    client = redis_client()
    stream = stream_keys()[0]
    _ensure_group(client, stream)
    consumer = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    budget = settings.EVENTS_DRAIN_SECONDS if max_seconds is None else max_seconds
    deadline = time.monotonic() + budget
    stored = _reclaim(client, stream, consumer)
    # None: do not wait (redis-py reads block=0 as "wait forever").
    idle_ms = int(settings.EVENTS_IDLE_SECONDS * 1000) or None
    while True:
        batch = client.xreadgroup(
            GROUP, consumer, {stream: ">"}, count=settings.EVENTS_BATCH_ENTRIES, block=idle_ms
        )
        entries = batch[0][1] if batch else []
        if not entries:
            break
        stored += _process(client, stream, entries)
        if time.monotonic() > deadline:
            if client.xlen(stream):
                drain_enqueue(client)  # leave the backlog to a fresh job (and any free worker)
            break
        if len(entries) < settings.EVENTS_BATCH_ENTRIES and settings.EVENTS_GATHER_SECONDS:
            time.sleep(settings.EVENTS_GATHER_SECONDS)
    with contextlib.suppress(ResponseError):  # the stream was deleted meanwhile (by an operator)
        client.xgroup_delconsumer(stream, GROUP, consumer)
    return stored


def _check_database() -> None:
    """Raise `OperationalError` unless the database answers. A drain takes no entry while it is
    away: each delivery counts towards EVENTS_MAX_DELIVERIES, so drains failing one after another
    through a long database outage would send good events to the dead-letter stream."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _reclaim(client: Redis, stream: str, consumer: str) -> int:
    """Take over entries a dead worker left pending, dead-lettering those that keep failing."""
    idle_ms = int(settings.EVENTS_CLAIM_IDLE_SECONDS * 1000)
    _dead_letter_exhausted(client, stream, consumer, idle_ms)
    stored, start = 0, "0-0"
    while True:
        start, entries, deleted = client.xautoclaim(
            stream, GROUP, consumer, idle_ms, start, count=settings.EVENTS_BATCH_ENTRIES
        )[:3]
        if deleted:
            client.xack(stream, GROUP, *deleted)
        if entries:
            logger.warning("Taking over %d event entries a stopped worker left", len(entries))
            stored += _process(client, stream, entries)
        if start in (b"0-0", "0-0"):
            break
    _forget_idle_consumers(client, stream, idle_ms)
    return stored


def _dead_letter_exhausted(client: Redis, stream: str, consumer: str, idle_ms: int) -> None:
    pending = client.xpending_range(stream, GROUP, min="-", max="+", count=1000, idle=idle_ms)
    exhausted = [
        p["message_id"] for p in pending if p["times_delivered"] >= settings.EVENTS_MAX_DELIVERIES
    ]
    if not exhausted:
        return
    claimed = client.xclaim(stream, GROUP, consumer, idle_ms, exhausted)
    for entry_id, fields in claimed:
        _dead_letter(client, stream, entry_id, fields, "delivered too often without success")


def _forget_idle_consumers(client: Redis, stream: str, idle_ms: int) -> None:
    """Consumers of finished or crashed drains, once they hold nothing, are removed."""
    for info in client.xinfo_consumers(stream, GROUP):
        if info["pending"] == 0 and info["idle"] > idle_ms:
            client.xgroup_delconsumer(stream, GROUP, info["name"])


def _payloads(fields: dict) -> list[dict]:
    raw = fields.get(FIELD) or fields.get(FIELD.decode())
    value = json.loads(raw) if raw else []
    return value if isinstance(value, list) else [value]


def _database_away(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached, through Django or straight from the
    driver (the COPY path talks to psycopg directly): then entries wait for a later drain."""
    driver = connection.Database
    away = (OperationalError, InterfaceError, driver.OperationalError, driver.InterfaceError)
    return isinstance(exc, away)


def _process(client: Redis, stream: str, entries: list) -> int:
    """Store a batch of entries in one go, then acknowledge and delete them. Events that cannot
    be stored go to the dead-letter stream. A batch that fails for any reason but the database
    being away (a driver error, a bug, a bad value the checks missed) is stored entry by entry,
    so one bad entry never costs another (`_process_one`)."""
    payloads, origin, refused = [], {}, []
    try:
        for entry_id, fields in entries:
            for payload in _payloads(fields):
                payloads.append(payload)
                origin[id(payload)] = entry_id
        stored = store(payloads, refused=refused)
    except Exception as exc:
        if _database_away(exc):
            raise  # leave the entries pending: a later drain retries them
        logger.warning("Event batch failed (%r); storing its entries one by one", exc)
        stored = sum(_process_one(client, stream, entry) for entry in entries)
    else:
        for payload, reason in refused:
            _dead_letter_events(client, origin[id(payload)], [(payload, reason)])
    _acknowledge(client, stream, [entry_id for entry_id, _ in entries])
    return stored


def _process_one(client: Redis, stream: str, entry) -> int:
    """Store one entry alone; when that fails too, each of its events alone, so only the events
    that cannot be stored go to the dead-letter stream (the caller acknowledges the entry)."""
    entry_id, fields = entry
    try:
        payloads = _payloads(fields)
    except ValueError as exc:  # not JSON, or not UTF-8
        _dead_letter(client, stream, entry_id, fields, f"not a list of events: {exc!r}")
        return 0
    refused: list[tuple[dict, str]] = []
    try:
        stored = store(payloads, refused=refused)
    except Exception as exc:
        if _database_away(exc):
            raise
        if len(payloads) == 1:
            refused.append((payloads[0], repr(exc)))
            stored = 0
        else:
            stored = sum(_store_alone(payload, refused) for payload in payloads)
    _dead_letter_events(client, entry_id, refused)
    return stored


def _store_alone(payload: dict, refused: list[tuple[dict, str]]) -> int:
    """Store one event in its own transaction; a failure is listed in `refused`."""
    try:
        return store([payload], refused=refused)
    except Exception as exc:
        if _database_away(exc):
            raise
        refused.append((payload, repr(exc)))
        return 0


def _dead_letter_events(client: Redis, entry_id, failures: list[tuple[dict, str]]) -> None:
    """Keep each event that cannot be stored in the dead-letter stream, with the reason."""
    for payload, reason in failures:
        logger.error("Event of entry %s moved to the dead-letter stream: %s", entry_id, reason)
        client.xadd(
            stream_keys()[2],
            {"p": json.dumps([payload], default=str), "error": reason[:500], "entry": entry_id},
            maxlen=100_000,
            approximate=True,
        )


def _acknowledge(client: Redis, stream: str, entry_ids: list) -> None:
    pipe = client.pipeline(transaction=False)
    pipe.xack(stream, GROUP, *entry_ids)
    pipe.xdel(stream, *entry_ids)
    pipe.execute()


def _dead_letter(client: Redis, stream: str, entry_id, fields: dict, reason: str) -> None:
    raw = fields.get(FIELD) or fields.get(FIELD.decode()) or b""
    logger.error("Event entry %s moved to the dead-letter stream: %s", entry_id, reason)
    client.xadd(
        stream_keys()[2],
        {"p": raw, "error": reason[:500], "entry": entry_id},
        maxlen=100_000,
        approximate=True,
    )
    _acknowledge(client, stream, [entry_id])


def backlog() -> dict[str, int]:
    """Entries waiting, entries taken but not yet committed, and dead letters (for the admin)."""
    client = redis_client()
    stream, _, dead = stream_keys()
    _ensure_group(client, stream)
    pending = client.xpending(stream, GROUP)
    return {
        "waiting": client.xlen(stream) - int(pending["pending"]),
        "in_progress": int(pending["pending"]),
        "dead_letters": client.xlen(dead),
    }
