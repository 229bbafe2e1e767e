"""The attributes a segment condition can test: one documented list, used by the context builder's
docs, the admin's rule builder and the editors' attribute reference.

Keys are dotted paths into the attribute context (`traits.pet`, `views.section.dogs`). A key that
is unknown for a visitor is *absent* from the context, so comparisons on it never match (an
unknown age is not "between 20 and 29").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
    """Every fixed key of the context, grouped as the admin shows them (labels in the active
    language: built on each call, never kept)."""
    from personalization.choices import Gender, Occupation, PetType, Region, Tier

    weekdays = (
        ("monday", _("Monday")),
        ("tuesday", _("Tuesday")),
        ("wednesday", _("Wednesday")),
        ("thursday", _("Thursday")),
        ("friday", _("Friday")),
        ("saturday", _("Saturday")),
        ("sunday", _("Sunday")),
    )
    devices = (
        ("mobile", _("Mobile")),
        ("tablet", _("Tablet")),
        ("desktop", _("Desktop")),
        ("bot", _("Bot / crawler")),
        ("unknown", _("Unknown")),
    )
    return [
        Attribute(
            "country",
            _("Country (ISO code)"),
            "Request",
            STRING,
            _("Two-letter country of the request, from the trusted proxy header or GeoIP."),
            example="JP",
        ),
        Attribute(
            "device", _("Device"), "Request", CHOICE, _("From the browser's User-Agent."), devices
        ),
        Attribute(
            "referrer_host",
            _("Referrer host"),
            "Request",
            STRING,
            _("Host name of the page that linked here."),
            example="www.google.com",
        ),
        Attribute(
            "utm_source",
            _("UTM source"),
            "Request",
            STRING,
            _("utm_source of the link this visit started from."),
            example="newsletter",
        ),
        Attribute(
            "utm_medium",
            _("UTM medium"),
            "Request",
            STRING,
            _("utm_medium of this visit."),
            example="email",
        ),
        Attribute(
            "utm_campaign",
            _("UTM campaign"),
            "Request",
            STRING,
            _("utm_campaign of this visit."),
            example="spring-sale",
        ),
        Attribute(
            "path",
            _("Page path"),
            "Request",
            STRING,
            _("Path of the page being viewed."),
            example="/dogs/",
        ),
        Attribute(
            "hour",
            _("Hour of day"),
            "Request",
            NUMBER,
            _("0–23, in the site's time zone."),
            example="20",
        ),
        Attribute(
            "weekday", _("Day of week"), "Request", CHOICE, _("In the site's time zone."), weekdays
        ),
        Attribute("is_member", _("Is a logged-in member"), "Visitor", BOOLEAN, ""),
        Attribute(
            "is_new",
            _("Is a new visitor"),
            "Visitor",
            BOOLEAN,
            _("True on a visitor's first visit."),
        ),
        Attribute(
            "visit_count",
            _("Number of visits"),
            "Visitor",
            NUMBER,
            _("Visits so far (a visit ends after 30 minutes without a page view)."),
        ),
        Attribute(
            "traits.name",
            _("Name"),
            "Declared",
            STRING,
            _("The name the visitor told us (or the member's name)."),
        ),
        Attribute(
            "traits.pet",
            _("Pet"),
            "Declared",
            CHOICE,
            _("The pet the visitor told us about (or the member's profile)."),
            _choices(PetType),
        ),
        Attribute("age", _("Age"), "Member profile", NUMBER, _("From the member's birth date.")),
        Attribute("gender", _("Gender"), "Member profile", CHOICE, "", _choices(Gender)),
        Attribute(
            "region",
            _("Region"),
            "Member profile",
            CHOICE,
            _("Prefecture of residence, or overseas."),
            _choices(Region),
        ),
        Attribute(
            "occupation", _("Occupation"), "Member profile", CHOICE, "", _choices(Occupation)
        ),
        Attribute("tier", _("Membership tier"), "Member profile", CHOICE, "", _choices(Tier)),
        Attribute(
            "email",
            _("Member email"),
            "Member profile",
            STRING,
            _("Use with saved groups (uploaded member lists)."),
        ),
        Attribute("views.total", _("Page views (all)"), "Behaviour", NUMBER, ""),
        Attribute("cart.count", _("Items in cart"), "Behaviour", NUMBER, ""),
        Attribute("cart.value", _("Cart value (¥)"), "Behaviour", NUMBER, ""),
        Attribute(
            "cart.hours_since_update",
            _("Hours since the cart last changed"),
            "Behaviour",
            NUMBER,
            _("With items in cart: ≥ 1 means an abandoned cart."),
        ),
        Attribute("purchases.count", _("Number of purchases"), "Purchases", NUMBER, ""),
        Attribute("purchases.total_spend", _("Total spend (¥)"), "Purchases", NUMBER, ""),
        Attribute(
            "purchases.days_since_last", _("Days since last purchase"), "Purchases", NUMBER, ""
        ),
        Attribute(
            "purchases.categories",
            _("Categories bought"),
            "Purchases",
            LIST,
            _("Every category the visitor ever bought."),
            example="cat-food",
        ),
        Attribute(
            "favourites.count",
            _("Number of favourites"),
            "Favourites",
            NUMBER,
            _("Products the visitor keeps as favourites."),
        ),
        Attribute(
            "favourites.categories",
            _("Favourite categories"),
            "Favourites",
            LIST,
            _("The categories of the visitor's favourite products."),
            example="dog-food",
        ),
        Attribute(
            "favourites.pets",
            _("Favourites' pets"),
            "Favourites",
            LIST,
            _("The pets the favourite products are for: dog, cat, other or any."),
            example="dog",
        ),
        Attribute(
            "favourites.low_stock",
            _("Has a favourite low in stock"),
            "Favourites",
            BOOLEAN,
            _("A favourite has from 1 to %(threshold)d left in stock (COMMERCE_LOW_STOCK).")
            % {"threshold": getattr(settings, "COMMERCE_LOW_STOCK", 3)},
        ),
        Attribute(
            "favourites.on_sale",
            _("Has a favourite on sale"),
            "Favourites",
            BOOLEAN,
            _("A favourite costs less now than when the visitor added it."),
        ),
    ]


# The groups are keys (code compares them); editors read them through GROUP_LABELS.
GROUP_LABELS = {
    "Request": gettext_lazy("Request"),
    "Visitor": gettext_lazy("Visitor"),
    "Declared": gettext_lazy("Declared"),
    "Member profile": gettext_lazy("Member profile"),
    "Behaviour": gettext_lazy("Behaviour"),
    "Purchases": gettext_lazy("Purchases"),
    "Favourites": gettext_lazy("Favourites"),
}


def group_label(group: str) -> str:
    """The group's name in the editor's language."""
    return str(GROUP_LABELS.get(group, group))


# Keys with a name part chosen by the site (a section's slug, a tag, a product category).
DYNAMIC_PATTERNS = {
    "views.section.": (gettext_lazy("Views of section"), "Behaviour", NUMBER),
    "views.tag.": (gettext_lazy("Views of pages tagged"), "Behaviour", NUMBER),
    "purchases.category_days.": (gettext_lazy("Days since last bought"), "Purchases", NUMBER),
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
