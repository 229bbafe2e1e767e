"""Rate limits of the API, per visitor and per client address (DRF throttles: 429 with
Retry-After). Rates are read from `settings.API_THROTTLE_RATES` on every request, so they can be
changed by settings (and lowered in tests) without re-importing anything.

With Redis, a throttle is one counter per caller and window, counted by one atomic script call
(the window starts with the caller's first request) in the Redis cache. While Redis is
unreachable the same counters are kept by each process (`LocalWindows`): the limits still hold,
per process, rather than failing open or failing the request. DRF's own throttle, used without
Redis, reads and rewrites the list of every request's time in the window through the cache: two
round trips and a list as long as the rate, on every request."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Mapping

from django.conf import settings
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from config.cache import ResilientRedisCache
from personalization.proxies import client_address

logger = logging.getLogger(__name__)

# Each KEYS[i] a counter, ARGV[i] its window in ms → {count, ms left} for each. A counter found
# without an expiry (it cannot happen, but it would block forever) gets one.
_COUNT = """
local result = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[i])
    ttl = tonumber(ARGV[i])
  end
  result[#result + 1] = count
  result[#result + 1] = ttl
end
return result
"""


class LocalWindows:
    """Fixed-window counters in this process, with the semantics of `_COUNT`: the throttles'
    fallback while Redis is unreachable (each process then allows the full rate)."""

    def __init__(self, *, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._windows: dict[str, tuple[int, float]] = {}  # key -> (count, monotonic end)
        self._lock = threading.Lock()

    def count(self, keys: list[str], windows_ms: list[int]) -> list[int]:
        """Count one request on each key; [count, ms left, ...] as the script answers."""
        now = time.monotonic()
        result: list[int] = []
        with self._lock:
            if len(self._windows) >= self.max_keys:
                self._windows = {k: w for k, w in self._windows.items() if w[1] > now}
            for key, window_ms in zip(keys, windows_ms, strict=True):
                count, end = self._windows.get(key, (0, 0.0))
                if end <= now:
                    count, end = 0, now + window_ms / 1000
                self._windows[key] = (count + 1, end)
                result += [count + 1, max(1, int((end - now) * 1000))]
        return result


_local_windows = LocalWindows()


def _counting_cache() -> ResilientRedisCache | None:
    """The Redis cache the throttles count in; None without Redis (DRF's own throttling)."""
    cache = caches["default"]
    return cache if isinstance(cache, ResilientRedisCache) else None


def throttles_count(throttles: list, request, view) -> None:
    """Count this request against every Redis-backed throttle in one script call, so that
    their `allow_request` only reads the result (one round trip, however many throttles)."""
    cache = _counting_cache()
    counted = [t for t in throttles if isinstance(t, SettingsRateThrottle) and cache is not None]
    for throttle in counted:
        throttle.key = throttle.get_cache_key(request, view)
        throttle.counted = None
    counted = [t for t in counted if t.key is not None]
    if not counted:
        return
    keys = [cache.make_key(f"{t.key}:{t.duration}") for t in counted]
    windows_ms = [t.duration * 1000 for t in counted]
    result = cache.run_script(_COUNT, keys=keys, args=windows_ms)
    if result is None:  # Redis unreachable (logged by the cache): the same limits, per process
        result = _local_windows.count(keys, windows_ms)
    for i, throttle in enumerate(counted):
        throttle.counted = (result[2 * i], result[2 * i + 1])


class SettingsRateThrottle(SimpleRateThrottle):
    """A throttle whose rate is `settings.API_THROTTLE_RATES[scope]`; with the Redis cache,
    counted by `throttles_count` (which `APIDefaultsMixin.check_throttles` calls first)."""

    counted: tuple[int, int] | None = None  # (requests in this window, ms until it ends)

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view) -> bool:
        if _counting_cache() is None:
            return super().allow_request(request, view)
        if not hasattr(self, "key"):  # used alone, not through APIDefaultsMixin
            throttles_count([self], request, view)
        return self.counted is None or self.counted[0] <= self.num_requests

    def wait(self) -> float | None:
        if _counting_cache() is None:
            return super().wait()
        return self.counted[1] / 1000 if self.counted else None

    def get_ident_key(self, request) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request, view) -> str | None:
        ident = self.get_ident_key(request)
        return self.cache_format % {"scope": self.scope, "ident": ident} if ident else None


class VisitorRateThrottle(SettingsRateThrottle):
    """Per visitor: the member when logged in, else the visitor id of the token or cookie."""

    scope = "visitor"

    def get_ident_key(self, request) -> str | None:
        if request.user and request.user.is_authenticated:
            return f"user-{request.user.pk}"
        visitor_uuid = getattr(request._request, "visitor_uuid", None)
        return f"visitor-{visitor_uuid}" if visitor_uuid else None


class IPRateThrottle(SettingsRateThrottle):
    """Per client address: REMOTE_ADDR, or behind API_TRUSTED_PROXIES the address they report
    (`client_address`; a client's own X-Forwarded-For never names it)."""

    scope = "ip"

    def get_ident_key(self, request) -> str | None:
        address = client_address(request)
        return f"ip-{address}" if address else None


class LoginRateThrottle(IPRateThrottle):
    """Password attempts (the API's token requests and the site's log-in form), per client
    address."""

    scope = "login"


class LoginAccountRateThrottle(SettingsRateThrottle):
    """Password attempts per account (the username tried), from whatever addresses: the same
    `login` rate as per address."""

    scope = "login"

    def get_ident_key(self, request) -> str | None:
        if isinstance(request, Request):  # the API reads JSON only (its view refuses the rest)
            body = request.data if request.content_type.startswith("application/json") else {}
        else:
            body = request.POST
        username = body.get("username") if isinstance(body, Mapping) else None
        if not isinstance(username, str) or not username.strip():
            return None
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        return f"account-{digest}"


def login_attempt_wait(request) -> float | None:
    """Count one password attempt against its address and its account, as the API's token
    view does; the seconds to wait when either is over the `login` rate, else None."""
    throttles = [LoginRateThrottle(), LoginAccountRateThrottle()]
    throttles_count(throttles, request, None)
    refused = [t for t in throttles if not t.allow_request(request, None)]
    if not refused:
        return None
    waits = [wait for wait in (t.wait() for t in refused) if wait]
    return max(waits, default=float(max(t.duration for t in refused)))
