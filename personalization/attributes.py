"""The attributes a segment condition can test: one documented list, used by the context builder's
docs, the admin's rule builder and the editors' attribute reference.

Keys are dotted paths into the attribute context (`traits.pet`, `views.section.dogs`). A key that
is unknown for a visitor is *absent* from the context, so comparisons on it never match (an
unknown age is not "between 20 and 29").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

STRING, NUMBER, BOOLEAN, LIST, CHOICE = "string", "number", "boolean", "list", "choice"


@dataclass(frozen=True)
class Attribute:
    """One key of the attribute context, as editors see it."""

    key: str
    label: str
    group: str
    kind: str
    help: str
    choices: tuple[tuple[str, str], ...] = field(default=())
    example: str = ""


def _choices(text_choices) -> tuple[tuple[str, str], ...]:
    return tuple((str(value), str(label)) for value, label in text_choices.choices)


def static_attributes() -> list[Attribute]:
    """Every fixed key of the context, grouped as the admin shows them."""
    from personalization.choices import Gender, Occupation, PetType, Region, Tier

    weekdays = tuple(
        (d, d.capitalize())
        for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
    devices = (
        ("mobile", "Mobile"),
        ("tablet", "Tablet"),
        ("desktop", "Desktop"),
        ("bot", "Bot / crawler"),
        ("unknown", "Unknown"),
    )
    return [
        Attribute(
            "country",
            "Country (ISO code)",
            "Request",
            STRING,
            "Two-letter country of the request, from the trusted proxy header or GeoIP.",
            example="JP",
        ),
        Attribute("device", "Device", "Request", CHOICE, "From the browser's User-Agent.", devices),
        Attribute(
            "referrer_host",
            "Referrer host",
            "Request",
            STRING,
            "Host name of the page that linked here.",
            example="www.google.com",
        ),
        Attribute(
            "utm_source",
            "UTM source",
            "Request",
            STRING,
            "utm_source of the link this visit started from.",
            example="newsletter",
        ),
        Attribute(
            "utm_medium",
            "UTM medium",
            "Request",
            STRING,
            "utm_medium of this visit.",
            example="email",
        ),
        Attribute(
            "utm_campaign",
            "UTM campaign",
            "Request",
            STRING,
            "utm_campaign of this visit.",
            example="spring-sale",
        ),
        Attribute(
            "path",
            "Page path",
            "Request",
            STRING,
            "Path of the page being viewed.",
            example="/dogs/",
        ),
        Attribute(
            "hour", "Hour of day", "Request", NUMBER, "0–23, in the site's time zone.", example="20"
        ),
        Attribute(
            "weekday", "Day of week", "Request", CHOICE, "In the site's time zone.", weekdays
        ),
        Attribute("is_member", "Is a logged-in member", "Visitor", BOOLEAN, ""),
        Attribute(
            "is_new", "Is a new visitor", "Visitor", BOOLEAN, "True on a visitor's first visit."
        ),
        Attribute(
            "visit_count",
            "Number of visits",
            "Visitor",
            NUMBER,
            "Visits so far (a visit ends after 30 minutes without a page view).",
        ),
        Attribute(
            "traits.name",
            "Name",
            "Declared",
            STRING,
            "The name the visitor told us (or the member's name).",
        ),
        Attribute(
            "traits.pet",
            "Pet",
            "Declared",
            CHOICE,
            "The pet the visitor told us about (or the member's profile).",
            _choices(PetType),
        ),
        Attribute("age", "Age", "Member profile", NUMBER, "From the member's birth date."),
        Attribute("gender", "Gender", "Member profile", CHOICE, "", _choices(Gender)),
        Attribute(
            "region",
            "Region",
            "Member profile",
            CHOICE,
            "Prefecture of residence, or overseas.",
            _choices(Region),
        ),
        Attribute("occupation", "Occupation", "Member profile", CHOICE, "", _choices(Occupation)),
        Attribute("tier", "Membership tier", "Member profile", CHOICE, "", _choices(Tier)),
        Attribute(
            "email",
            "Member email",
            "Member profile",
            STRING,
            "Use with saved groups (uploaded member lists).",
        ),
        Attribute("views.total", "Page views (all)", "Behaviour", NUMBER, ""),
        Attribute("cart.count", "Items in cart", "Behaviour", NUMBER, ""),
        Attribute("cart.value", "Cart value (¥)", "Behaviour", NUMBER, ""),
        Attribute(
            "cart.hours_since_update",
            "Hours since the cart last changed",
            "Behaviour",
            NUMBER,
            "With items in cart: ≥ 1 means an abandoned cart.",
        ),
        Attribute("purchases.count", "Number of purchases", "Purchases", NUMBER, ""),
        Attribute("purchases.total_spend", "Total spend (¥)", "Purchases", NUMBER, ""),
        Attribute("purchases.days_since_last", "Days since last purchase", "Purchases", NUMBER, ""),
        Attribute(
            "purchases.categories",
            "Categories bought",
            "Purchases",
            LIST,
            "Every category the visitor ever bought.",
            example="cat-food",
        ),
    ]


# Keys with a name part chosen by the site (a section's slug, a tag, a product category).
DYNAMIC_PATTERNS = {
    "views.section.": ("Views of section", "Behaviour", NUMBER),
    "views.tag.": ("Views of pages tagged", "Behaviour", NUMBER),
    "purchases.category_days.": ("Days since last bought", "Purchases", NUMBER),
}
_DYNAMIC_KEY = re.compile(
    r"^(views\.section|views\.tag|purchases\.category_days)\.[a-z0-9][a-z0-9_-]{0,63}$"
)


def is_known_key(key: str) -> bool:
    """Whether a rule may test `key` (a fixed key, or a dynamic one of the right shape)."""
    return key in {a.key for a in static_attributes()} or bool(_DYNAMIC_KEY.match(key))


def attribute_for(key: str) -> Attribute | None:
    """The Attribute describing `key`, including dynamic keys."""
    for attribute in static_attributes():
        if attribute.key == key:
            return attribute
    for prefix, (label, group, kind) in DYNAMIC_PATTERNS.items():
        if key.startswith(prefix) and _DYNAMIC_KEY.match(key):
            name = key[len(prefix) :]
            return Attribute(key, f"{label}: {name}", group, kind, "")
    return None
