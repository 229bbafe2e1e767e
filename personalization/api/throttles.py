"""Rate limits of the API, per visitor and per client address (DRF throttles: 429 with
Retry-After). Rates are read from `settings.API_THROTTLE_RATES` on every request, so they can be
changed by settings (and lowered in tests) without re-importing anything.

With Redis, a throttle is one counter per caller and window, counted by one atomic script call
(the window starts with the caller's first request). DRF's own throttle, used without Redis,
reads and rewrites the list of every request's time in the window through the cache: two round
trips and a list as long as the rate, on every request."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from personalization.ingest import redis_client
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
_scripts: dict[str, object] = {}


def _count_script():
    """The registered counting script on the pipeline's Redis connection pool."""
    client = redis_client()
    script = _scripts.get(settings.REDIS_URL)
    if script is None:
        script = _scripts[settings.REDIS_URL] = client.register_script(_COUNT)
    return script


def throttles_count(throttles: list, request, view) -> None:
    """Count this request against every Redis-backed throttle in one script call, so that
    their `allow_request` only reads the result (one round trip, however many throttles)."""
    counted = [t for t in throttles if isinstance(t, SettingsRateThrottle) and settings.REDIS_URL]
    for throttle in counted:
        throttle.key = throttle.get_cache_key(request, view)
        throttle.counted = None
    counted = [t for t in counted if t.key is not None]
    if not counted:
        return
    keys = [cache.make_key(f"{t.key}:{t.duration}") for t in counted]
    try:
        result = _count_script()(keys=keys, args=[t.duration * 1000 for t in counted])
    except RedisError as exc:
        # A rate limit must not take the API down with Redis: let the request through.
        logger.warning("Redis unavailable (%s); request not throttled", exc)
        return
    for i, throttle in enumerate(counted):
        throttle.counted = (result[2 * i], result[2 * i + 1])


class SettingsRateThrottle(SimpleRateThrottle):
    """A throttle whose rate is `settings.API_THROTTLE_RATES[scope]`; with Redis, counted by
    `throttles_count` (which `APIDefaultsMixin.check_throttles` calls first)."""

    counted: tuple[int, int] | None = None  # (requests in this window, ms until it ends)

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view) -> bool:
        if not settings.REDIS_URL:
            return super().allow_request(request, view)
        if not hasattr(self, "key"):  # used alone, not through APIDefaultsMixin
            throttles_count([self], request, view)
        return self.counted is None or self.counted[0] <= self.num_requests

    def wait(self) -> float | None:
        if not settings.REDIS_URL:
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
    """Password attempts for API tokens, per client address."""

    scope = "login"
