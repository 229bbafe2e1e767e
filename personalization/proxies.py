"""Who sent a request, as far as the site can know: forwarding headers (X-Forwarded-For,
X-Forwarded-Proto, the country header ...) are believed only from `API_TRUSTED_PROXIES`.

`ForwardedHeadersMiddleware` (first in MIDDLEWARE) removes them from any other peer before
anything reads them, so Django's `request.is_secure()` / `build_absolute_uri()` (through
SECURE_PROXY_SSL_HEADER), the country attribute and the throttles can trust what is left.
`client_address(request)` is the one answer to "which address is this client": the throttles,
the GeoIP country and the log-in limits all ask it.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings

# request.META keys a proxy sets for its client; a client can set them too.
FORWARDING_KEYS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_SSL",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
)
_ADDRESS_MEMO = "_client_address"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _parse(value: str) -> Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def is_trusted_proxy(address: Address | None) -> bool:
    """Whether `address` is one of API_TRUSTED_PROXIES (proxies, CDNs, frontend servers)."""
    if address is None:
        return False
    return any(address in net for net in _networks(tuple(settings.API_TRUSTED_PROXIES)))


def peer_is_trusted(request) -> bool:
    """Whether the direct peer (REMOTE_ADDR) is a trusted proxy."""
    return is_trusted_proxy(_parse(str(request.META.get("REMOTE_ADDR", ""))))


def country_meta_key() -> str | None:
    """The request.META key of the configured country header, if one is configured."""
    header = getattr(settings, "PERSONALIZATION_COUNTRY_HEADER", "")
    return "HTTP_" + header.upper().replace("-", "_") if header else None


def drop_untrusted_forwarding(request) -> None:
    """Forget every forwarding header (and the country header) a non-proxy peer sent."""
    if peer_is_trusted(request):
        return
    country = country_meta_key()
    for key in (*FORWARDING_KEYS, country) if country else FORWARDING_KEYS:
        request.META.pop(key, None)


def _forwarded_client(meta: dict) -> str | None:
    """The right-most X-Forwarded-For address that is not a trusted proxy (each trusted proxy
    appends the address it saw: what is left of the first untrusted one is the client's word).
    When every hop is a trusted proxy, the left-most; None for a malformed hop."""
    hops = [h for h in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
    chosen = None
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break
        chosen = str(address)
        if not is_trusted_proxy(address):
            break
    return chosen


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or behind trusted proxies the address they report.

    Memoized on the request; "" when the server gave no address."""
    django_request = getattr(request, "_request", request)
    cached = django_request.__dict__.get(_ADDRESS_MEMO)
    if cached is not None:
        return cached
    remote = str(django_request.META.get("REMOTE_ADDR", "")).strip()
    address = remote
    if peer_is_trusted(django_request):
        address = _forwarded_client(django_request.META) or remote
    django_request.__dict__[_ADDRESS_MEMO] = address
    return address


class ForwardedHeadersMiddleware:
    """First in MIDDLEWARE: forwarding headers from a peer that is not a trusted proxy are
    removed before Django (HTTPS detection, absolute URLs) or the app reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        drop_untrusted_forwarding(request)
        return self.get_response(request)
