"""A Redis outage degrades the site instead of taking it down.

`RedisOutage` remembers, per Redis server and process, that the server failed: callers skip it
for `down_seconds` (then one caller probes it with a PING on short timeouts), and the failure is
logged once per interval, not once per call. The cache, the job queues and Wagtail's tasks share
it, so a Redis that does not answer costs at most one short timeout per interval.

`ResilientRedisCache` is Django's Redis cache on top of it: a failed read is a miss, a failed
write a no-op, never an exception. The keys it could not write or delete while Redis was away are
deleted when Redis answers again, so an entry written before the outage cannot outlive a change
made during it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

logger = logging.getLogger(__name__)

T = TypeVar("T")

DOWN_SECONDS = 5.0  # how long a process leaves a failed Redis alone before probing it again
LOG_SECONDS = 60.0  # at most one "unreachable" line per server and process in this time
MISSED_KEYS_LIMIT = 10_000  # keys remembered for deletion after an outage


class RedisOutage:
    """Whether one Redis server is known to be down in this process (a circuit breaker)."""

    def __init__(self, url: str, *, down_seconds: float = DOWN_SECONDS) -> None:
        self.url = url
        self.server = server_name(url)
        self.down_seconds = down_seconds
        self.down_until = 0.0
        self.failing = False
        self.logged_until = 0.0
        self.missed_keys: set[str] = set()
        self.missed_overflow = False
        self._lock = threading.Lock()

    def available(self) -> bool:
        """True when Redis should be tried; once the pause is over one caller probes it with
        a PING on short timeouts (whatever client it would use), while the others skip."""
        if not self.failing:
            return True
        now = time.monotonic()
        with self._lock:
            if now < self.down_until:
                return False
            self.down_until = now + self.down_seconds  # the others keep skipping meanwhile
        return self._probe()

    def _probe(self) -> bool:
        """PING the server on a connection of its own: True (the outage is over) if it answers."""
        client = Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            client.ping()
        except RedisError:
            return False
        finally:
            client.close()
        self.succeeded()
        return True

    def failed(self, exc: RedisError, *, action: str) -> None:
        """Record a failure: pause use of the server and log it if not logged lately."""
        now = time.monotonic()
        with self._lock:
            if isinstance(exc, RedisConnectionError | RedisTimeoutError):
                self.failing = True
                self.down_until = now + self.down_seconds
            if now < self.logged_until:
                return
            self.logged_until = now + LOG_SECONDS
        logger.warning(
            "Redis at %s failed (%s: %s); %s. Skipping it for %.0f s; this is logged at most "
            "every %.0f s.",
            self.server,
            type(exc).__name__,
            exc,
            action,
            self.down_seconds,
            LOG_SECONDS,
        )

    def succeeded(self) -> None:
        """Record that the server answered: the outage, if any, is over."""
        if not self.failing:
            return
        with self._lock:
            self.failing = False
            self.down_until = 0.0
            self.logged_until = 0.0
        logger.warning("Redis at %s is reachable again.", self.server)

    def remember_missed(self, keys: Iterable[str]) -> None:
        """Remember keys a write could not reach, to delete them once Redis is back."""
        with self._lock:
            for key in keys:
                if len(self.missed_keys) >= MISSED_KEYS_LIMIT:
                    self.missed_overflow = True
                    return
                self.missed_keys.add(key)

    def take_missed(self) -> tuple[list[str], bool]:
        """(keys to delete, whether some were not remembered) — and forget them."""
        with self._lock:
            keys, overflow = list(self.missed_keys), self.missed_overflow
            self.missed_keys, self.missed_overflow = set(), False
        return keys, overflow


_outages: dict[str, RedisOutage] = {}
_outages_lock = threading.Lock()


def server_name(url: str) -> str:
    """`host:port` of a Redis URL (never its password), the identity of a server."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


def redis_outage(url: str, *, down_seconds: float = DOWN_SECONDS) -> RedisOutage:
    """The outage state of the server of `url` in this process (shared by every user of it)."""
    name = server_name(url)
    outage = _outages.get(name)
    if outage is None:
        with _outages_lock:
            outage = _outages.setdefault(name, RedisOutage(url, down_seconds=down_seconds))
    return outage


def redis_outages_reset() -> None:
    """Forget every outage (tests that restart servers on ports used before)."""
    with _outages_lock:
        _outages.clear()


class _Missing:
    """The result of an operation that Redis could not serve."""


MISSING = _Missing()


class ResilientRedisCache(RedisCache):
    """Django's Redis cache in which Redis failures are misses and no-ops, never errors.

    OPTIONS may set `down_seconds`; the rest go to redis-py, with short default timeouts (a
    request must not wait seconds on a Redis that is gone) and one immediate retry on a
    connection error (a pooled connection broken by a Redis restart is replaced rather than
    reported as an outage; a timeout is not retried, it would only double the wait)."""

    DEFAULT_OPTIONS: dict[str, Any] = {
        "socket_connect_timeout": 0.5,
        "socket_timeout": 2.0,
    }

    def __init__(self, server: str, params: dict) -> None:
        options = {**self.DEFAULT_OPTIONS, **params.get("OPTIONS", {})}
        down_seconds = float(options.pop("down_seconds", DOWN_SECONDS))
        options.setdefault("retry", Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)))
        super().__init__(server, {**params, "OPTIONS": options})
        self._outage = redis_outage(self._servers[0], down_seconds=down_seconds)
        self._scripts: dict[str, Any] = {}

    def _run(self, operation: Callable[[], T], *, action: str, writes: Iterable[str] = ()) -> T:
        """`operation()`, or MISSING when Redis is down or fails (written keys remembered)."""
        outage = self._outage
        if not outage.available():
            outage.remember_missed(writes)
            return MISSING  # type: ignore[return-value]
        try:
            self._delete_missed()
            result = operation()
        except RedisError as exc:
            outage.failed(exc, action=action)
            outage.remember_missed(writes)
            return MISSING  # type: ignore[return-value]
        outage.succeeded()
        return result

    def _delete_missed(self) -> None:
        """Delete the keys whose writes were lost in an outage, before anything else is read."""
        if not self._outage.missed_keys:
            return
        keys, overflow = self._outage.take_missed()
        try:
            self._cache.delete_many(keys)
        except RedisError:
            self._outage.remember_missed(keys)
            raise
        if overflow:
            logger.error(
                "More than %d cache writes were lost while Redis at %s was down; entries "
                "written before the outage may be stale until they expire.",
                MISSED_KEYS_LIMIT,
                self._outage.server,
            )

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        full = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        added = self._run(lambda: self._cache.add(full, value, timeout), action="not cached")
        return False if added is MISSING else added

    def get(self, key, default=None, version=None) -> Any:
        full = self.make_and_validate_key(key, version=version)
        value = self._run(lambda: self._cache.get(full, default), action="cache miss")
        return default if value is MISSING else value

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        full = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        self._run(lambda: self._cache.set(full, value, timeout), action="not cached", writes=[full])

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        full = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        touched = self._run(lambda: self._cache.touch(full, timeout), action="not touched")
        return False if touched is MISSING else touched

    def delete(self, key, version=None) -> bool:
        full = self.make_and_validate_key(key, version=version)
        deleted = self._run(
            lambda: self._cache.delete(full), action="delete postponed", writes=[full]
        )
        return False if deleted is MISSING else deleted

    def get_many(self, keys, version=None) -> dict:
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        found = self._run(lambda: self._cache.get_many(key_map.keys()), action="cache miss")
        return {} if found is MISSING else {key_map[k]: v for k, v in found.items()}

    def has_key(self, key, version=None) -> bool:
        full = self.make_and_validate_key(key, version=version)
        found = self._run(lambda: self._cache.has_key(full), action="cache miss")
        return False if found is MISSING else found

    def incr(self, key, delta=1, version=None) -> int:
        full = self.make_and_validate_key(key, version=version)
        value = self._run(lambda: self._cache.incr(full, delta), action="not counted")
        if value is MISSING:
            raise ValueError(f"Key '{key}' not found (Redis unavailable).")  # as for a miss
        return value

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None) -> list:
        if not data:
            return []
        safe = {self.make_and_validate_key(k, version=version): v for k, v in data.items()}
        timeout = self.get_backend_timeout(timeout)
        self._run(lambda: self._cache.set_many(safe, timeout), action="not cached", writes=safe)
        return []

    def delete_many(self, keys, version=None) -> None:
        safe = [self.make_and_validate_key(key, version=version) for key in keys]
        if safe:
            self._run(lambda: self._cache.delete_many(safe), action="delete postponed", writes=safe)

    def clear(self) -> bool:
        cleared = self._run(self._cache.clear, action="cache not cleared")
        return False if cleared is MISSING else cleared

    def run_script(self, source: str, *, keys: list[str], args: list) -> Any | None:
        """Run a Lua script on the cache's server (keys already made with `make_key`); None
        when Redis is unavailable, so the caller uses its own fallback."""
        script = self._scripts.get(source)
        if script is None:
            client = self._cache.get_client(write=True)
            script = self._scripts[source] = client.register_script(source)
        result = self._run(lambda: script(keys=keys, args=args), action="counted locally")
        return None if result is MISSING else result

    def decode(self, raw: bytes) -> Any:
        """A value as `get` returns it, from the stored bytes a script returned."""
        return self._cache._serializer.loads(raw)
