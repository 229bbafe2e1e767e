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

logger = logging.getLogger(__name__)

# KEYS[1] counter, ARGV[1] window in ms → {requests in this window, ms until it ends}. A
# counter found without an expiry (it cannot happen, but it would block forever) gets one.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""
_scripts: dict[str, object] = {}


def _count_script():
    """The registered counting script on the pipeline's Redis connection pool."""
    client = redis_client()
    script = _scripts.get(settings.REDIS_URL)
    if script is None:
        script = _scripts[settings.REDIS_URL] = client.register_script(_COUNT)
    return script


class SettingsRateThrottle(SimpleRateThrottle):
    """A throttle whose rate is `settings.API_THROTTLE_RATES[scope]`."""

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view) -> bool:
        if not settings.REDIS_URL:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        key = cache.make_key(f"{self.key}:{self.duration}")
        try:
            count, self.remaining_ms = _count_script()(keys=[key], args=[self.duration * 1000])
        except RedisError as exc:
            # A rate limit must not take the API down with Redis: let the request through.
            logger.warning("Redis unavailable (%s); %s not throttled", exc, self.scope)
            return True
        return count <= self.num_requests

    def wait(self) -> float | None:
        if not settings.REDIS_URL:
            return super().wait()
        return self.remaining_ms / 1000

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
    """Per client address (REMOTE_ADDR, or X-Forwarded-For behind NUM_PROXIES proxies)."""

    scope = "ip"

    def get_ident_key(self, request) -> str | None:
        return self.get_ident(request)


class LoginRateThrottle(IPRateThrottle):
    """Password attempts for API tokens, per client address."""

    scope = "login"
