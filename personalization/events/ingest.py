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
import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from redis import Redis
from redis.exceptions import RedisError, ResponseError

from config import embedded
from personalization.events.storing import (  # noqa: F401 - the pipeline's public names
    Incoming,
    InvalidEvent,
    parse,
    store,
    with_idempotency_key,
)

logger = logging.getLogger(__name__)

GROUP = "ingest"
FIELD = b"p"
DRAIN_JOB_PREFIX = "events-drain-"
DRAIN_JOB = "personalization.events.jobs.drain_events"  # by path: jobs imports this module


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
    client = client or redis_client()
    job_id = f"{DRAIN_JOB_PREFIX}{uuid.uuid4().hex}"
    _events_queue(client).enqueue_call(
        DRAIN_JOB,
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
