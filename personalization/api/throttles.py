"""Rate limits of the API, per visitor and per client address (DRF throttles: 429 with
Retry-After). Rates are read from `settings.API_THROTTLE_RATES` on every request, so they can be
changed by settings (and lowered in tests) without re-importing anything."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class SettingsRateThrottle(SimpleRateThrottle):
    """A throttle whose rate is `settings.API_THROTTLE_RATES[scope]`."""

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]

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
