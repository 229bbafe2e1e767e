"""The attribute context: the one plain dict a segment condition sees for a visitor.

Built from the request (country, device, referrer, UTM, path, time), the visitor's declared
traits, the member's profile and the behaviour and purchase rollups kept by the event jobs. It
never scans events and makes no query of its own beyond what the visitor object already holds.
The keys are listed in `personalization.attributes`.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.utils import timezone

from personalization.bounds import clamp_amount, clamp_count, clamp_quantity
from personalization.proxies import client_address, peer_is_trusted

logger = logging.getLogger(__name__)
CAMPAIGN_COOKIE = "pv_campaign"
CAMPAIGN_SALT = "personalization.campaign"
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign")
MAX_QUERY_KEYS = 20
MAX_VALUE_LENGTH = 200
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_BOT = re.compile(r"bot|crawl|spider|slurp|facebookexternalhit|headless", re.I)
_TABLET = re.compile(r"ipad|tablet|kindle|silk|playbook|android(?!.*mobile)", re.I)
_MOBILE = re.compile(r"mobi|iphone|ipod|android.*mobile|windows phone|blackberry|opera mini", re.I)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@functools.lru_cache(maxsize=2048)
def device_from_user_agent(user_agent: str) -> str:
    """mobile / tablet / desktop / bot, or unknown when the browser sent nothing."""
    if not user_agent:
        return "unknown"
    if _BOT.search(user_agent):
        return "bot"
    if _TABLET.search(user_agent):
        return "tablet"
    if _MOBILE.search(user_agent):
        return "mobile"
    return "desktop"


def _clip(value: str) -> str:
    return value[:MAX_VALUE_LENGTH]


def referrer_host(referrer: str) -> str | None:
    """The host name a referrer URL names, or None for anything malformed."""
    if not referrer:
        return None
    try:
        host = urlsplit(referrer).hostname
    except ValueError:
        return None
    return _clip(host.lower()) if host else None


def from_trusted_proxy(request) -> bool:
    """Whether the direct peer is one of API_TRUSTED_PROXIES (see `personalization.proxies`)."""
    return peer_is_trusted(request)


def country_from_headers(meta: dict[str, Any], address: str = "") -> str | None:
    """The visitor's country from the configured trusted header (e.g. CF-IPCountry; from other
    peers it is removed on arrival), else `address` looked up in the GeoIP2 country database."""
    header = getattr(settings, "PERSONALIZATION_COUNTRY_HEADER", "")
    if header:
        raw = meta.get("HTTP_" + header.upper().replace("-", "_"), "")
        value = str(raw).strip().upper()
        if _COUNTRY.match(value):
            return value
    return country_from_geoip(address)


@functools.lru_cache(maxsize=1)
def _geoip_reader():
    path = getattr(settings, "GEOIP_COUNTRY_DATABASE", "")
    if not path:
        return None
    try:
        import geoip2.database  # optional: pip install geoip2 and set GEOIP_COUNTRY_DATABASE
    except ImportError:
        logger.warning("GEOIP_COUNTRY_DATABASE is set but the geoip2 package is not installed")
        return None
    try:
        return geoip2.database.Reader(path)
    except (OSError, ValueError) as exc:
        logger.warning("Cannot open the GeoIP2 database %s: %s", path, exc)
        return None


@functools.lru_cache(maxsize=4096)
def country_from_geoip(address: str) -> str | None:
    """ISO country of an IP address from the configured GeoIP2 database, if any."""
    reader = _geoip_reader()
    if reader is None or not address:
        return None
    try:
        return reader.country(address).country.iso_code
    except Exception:  # unknown or malformed address: no country, never an error page
        return None


def campaign_from_request(request) -> dict[str, str]:
    """UTM values of this visit: from the URL, else from the visit's signed campaign cookie."""
    from_url = {k: _clip(request.GET[k]) for k in UTM_KEYS if request.GET.get(k)}
    if from_url:
        return from_url
    raw = request.COOKIES.get(CAMPAIGN_COOKIE)
    if not raw:
        return {}
    try:
        stored = signing.loads(raw, salt=CAMPAIGN_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return {}
    if not isinstance(stored, dict):
        return {}
    return {k: _clip(str(v)) for k, v in stored.items() if k in UTM_KEYS and v}


def request_attributes(request, now: datetime.datetime) -> dict[str, Any]:
    """Request-context keys: country, device, referrer_host, UTM, path, query, hour, weekday."""
    local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
    meta = request.META
    attributes: dict[str, Any] = {
        "device": device_from_user_agent(_clip(str(meta.get("HTTP_USER_AGENT", "")))),
        "path": _clip(request.path),
        "query": {_clip(k): _clip(v) for k, v in list(request.GET.items())[:MAX_QUERY_KEYS]},
        "hour": local.hour,
        "weekday": WEEKDAYS[local.weekday()],
    }
    country = country_from_headers(meta, client_address(request) if "REMOTE_ADDR" in meta else "")
    if country:
        attributes["country"] = country
    host = referrer_host(str(meta.get("HTTP_REFERER", "")))
    if host:
        attributes["referrer_host"] = host
    attributes.update(campaign_from_request(request))
    return attributes


def _days_since(iso_date: str | None, today: datetime.date) -> int | None:
    if not iso_date or not isinstance(iso_date, str):
        return None
    try:
        return (today - datetime.date.fromisoformat(iso_date[:10])).days
    except ValueError:
        return None


def _stored_dict(value) -> dict:
    """A rollup stored as a JSON object; an empty one when the row holds anything else."""
    return value if isinstance(value, dict) else {}


def visitor_attributes(visitor, user, now: datetime.datetime) -> dict[str, Any]:
    """Visitor, declared, member-profile, behaviour and purchase keys, from stored rollups."""
    today = timezone.localdate(now)
    profile = getattr(user, "profile", None) if user is not None else None
    is_member = user is not None and user.is_authenticated
    traits = dict(_stored_dict(visitor.traits)) if visitor is not None else {}
    if profile is not None and profile.pet_type and profile.pet_type != "none":
        traits["pet"] = profile.pet_type
    if is_member and user.first_name:
        traits.setdefault("name", user.first_name)
    attributes: dict[str, Any] = {
        "is_member": is_member,
        "is_new": visitor is None or visitor.pk is None or visitor.visit_count <= 1,
        "visit_count": visitor.visit_count if visitor is not None else 0,
        "traits": {
            k: v for k, v in traits.items() if k in ("name", "pet") and v and isinstance(v, str)
        },
    }
    if is_member:
        attributes["email"] = user.email.lower()
    if profile is not None:
        attributes.update(_profile_attributes(profile, today))
    if visitor is not None:
        attributes.update(_behaviour_attributes(visitor, now, today))
    return attributes


def _profile_attributes(profile, today: datetime.date) -> dict[str, Any]:
    from personalization.models import age_on

    values: dict[str, Any] = {
        "gender": profile.gender,
        "occupation": profile.occupation,
        "tier": profile.tier,
    }
    if profile.region:
        values["region"] = profile.region
    if profile.birth_date:
        values["age"] = age_on(profile.birth_date, today)
    return values


def _cart_attributes(stored, now: datetime.datetime) -> dict[str, Any]:
    """Items in the cart, its value and hours since it changed, every number clamped (a row an
    older version wrote may hold a 400-digit quantity or a price no float holds)."""
    cart = _stored_dict(stored)
    items = [i for i in _stored_dict(cart.get("items")).values() if isinstance(i, dict)]
    quantities = [clamp_quantity(i.get("quantity", 1)) for i in items]
    prices = [clamp_amount(i.get("price", 0)) for i in items]
    values: dict[str, Any] = {
        "count": sum(quantities),
        "value": sum(p * q for p, q in zip(prices, quantities, strict=True)),
    }
    updated = cart.get("updated_at")
    if items and updated:
        try:
            changed = datetime.datetime.fromisoformat(updated)
            values["hours_since_update"] = round((now - changed).total_seconds() / 3600, 2)
        except (TypeError, ValueError, OverflowError):
            pass
    return values


def _purchase_attributes(visitor, today: datetime.date) -> dict[str, Any]:
    categories = _stored_dict(visitor.categories_bought)
    purchases: dict[str, Any] = {
        "count": visitor.purchase_count,
        "total_spend": float(visitor.total_spend),
        "categories": sorted(categories),
        "category_days": {
            name: days
            for name, day in categories.items()
            if (days := _days_since(day, today)) is not None
        },
    }
    if visitor.last_purchase_at:
        try:
            last = timezone.localdate(visitor.last_purchase_at)
        except (OverflowError, ValueError):  # a stored time at the calendar's very edge
            return purchases
        purchases["days_since_last"] = (today - last).days
    return purchases


def _counters(stored) -> dict[str, int]:
    return {str(k): clamp_count(v) for k, v in _stored_dict(stored).items()}


def _whole(value) -> int | None:
    """A stored whole number (price or stock), or None for anything else."""
    return value if type(value) is int else None


def _texts(entries: list[dict], name: str) -> list[str]:
    """The distinct non-empty strings the entries hold under `name`, sorted."""
    return sorted({e[name] for e in entries if isinstance(e.get(name), str) and e[name]})


def _favourite_attributes(stored) -> dict[str, Any]:
    """Number, categories and pets of the visitor's favourites, and whether one is low in stock
    (1 to COMMERCE_LOW_STOCK left) or on sale (cheaper than when it was added) — a product
    the shop no longer sells (inactive) is neither: read from the rollup the favourites keep
    (`personalization.commerce.favourites`), never from the tables."""
    entries = [e for e in _stored_dict(stored).values() if isinstance(e, dict)]
    threshold = getattr(settings, "COMMERCE_LOW_STOCK", 3)
    low_stock = on_sale = False
    for entry in entries:
        if entry.get("active", True) is not True:
            continue
        stock, price, was = (_whole(entry.get(k)) for k in ("stock", "price", "price_when_added"))
        low_stock = low_stock or (stock is not None and 0 < stock <= threshold)
        on_sale = on_sale or (price is not None and was is not None and price < was)
    return {
        "count": len(entries),
        "categories": _texts(entries, "category"),
        "pets": _texts(entries, "pet"),
        "low_stock": low_stock,
        "on_sale": on_sale,
    }


def _behaviour_attributes(visitor, now: datetime.datetime, today: datetime.date) -> dict:
    return {
        "views": {
            "total": visitor.page_view_count,
            "section": _counters(visitor.section_views),
            "tag": _counters(visitor.tag_views),
        },
        "cart": _cart_attributes(visitor.cart, now),
        "purchases": _purchase_attributes(visitor, today),
        "favourites": _favourite_attributes(getattr(visitor, "favourites_rollup", None)),
    }


def build_context(request, visitor, user=None, now: datetime.datetime | None = None) -> dict:
    """The full attribute context for this request's visitor (see `personalization.attributes`)."""
    now = now or timezone.now()
    attributes = request_attributes(request, now) if request is not None else {}
    attributes.update(visitor_attributes(visitor, user, now))
    return attributes
