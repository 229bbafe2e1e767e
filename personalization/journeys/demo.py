"""Demo journeys for `load_demo`: cart abandonment, welcome back, a first-purchase follow-up and
the three catalogue triggers on favourites (almost gone, back in stock, price drop), with their
email templates. Safe to run again: it adds what is missing and changes nothing an
editor already edited."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from personalization.events.models import EventType
from personalization.journeys.models import (
    EmailTemplate,
    Journey,
    JourneyStatus,
    JourneyStep,
    StepAction,
    TimeUnit,
    TriggerKind,
)
from personalization.models import Consent

CART_REMINDER = {
    "subject": "{{ name|default:'Hello' }}, your cart is waiting",
    "body_text": (
        "Hello {{ name|default:'there' }},\n\n"
        "You left {{ cart.count }} item{{ cart.count|pluralize }} in your cart:\n"
        "{% for item in cart.items %}  - {{ item.sku }} × {{ item.quantity }}\n{% endfor %}\n"
        "They are still waiting for you at {{ site_url }}\n\n"
        "{{ site_name }}\n\n"
        "Don't want these reminders? Unsubscribe: {{ unsubscribe_url }}\n"
    ),
}
FIRST_PURCHASE = {
    "subject": "How is it going, {{ name|default:'friend' }}?",
    "body_text": (
        "Hello {{ name|default:'there' }},\n\n"
        "Two weeks ago you placed your first order with us. We hope your pet loves it!\n"
        "Members get offers picked for their pets: {{ site_url }}\n\n"
        "{{ site_name }}\n"
    ),
}

_PRODUCT_LINES = (
    "{% for product in products %}  - {{ product.name }}: ¥{{ product.price|floatformat:'g' }}"
    "{% if product.old_price %} (was ¥{{ product.old_price|floatformat:'g' }}){% endif %}"
    "{% if product.stock %}, {{ product.stock }} in stock{% endif %}\n"
    "    {{ product.url }}\n{% endfor %}\n"
)
ALMOST_GONE = {
    "subject": "Almost gone: {{ products.0.name }}{% if products|length > 1 %} and more{% endif %}",
    "body_text": (
        "Hello {{ name|default:'there' }},\n\n"
        "Only a few left of {{ products|length|pluralize:'this favourite,these favourites' }}:\n"
        + _PRODUCT_LINES
        + "{{ site_name }}\n\nDon't want these e-mails? Unsubscribe: {{ unsubscribe_url }}\n"
    ),
}
BACK_IN_STOCK = {
    "subject": (
        "Back in stock: {{ products.0.name }}{% if products|length > 1 %} and more{% endif %}"
    ),
    "body_text": (
        "Hello {{ name|default:'there' }},\n\n"
        "Good news: {{ products|length|pluralize:'your favourite is,your favourites are' }}"
        " back in stock:\n"
        + _PRODUCT_LINES
        + "{{ site_name }}\n\nDon't want these e-mails? Unsubscribe: {{ unsubscribe_url }}\n"
    ),
}
PRICE_DROP = {
    "subject": "Price drop: {{ products.0.name }}{% if products|length > 1 %} and more{% endif %}",
    "body_text": (
        "Hello {{ name|default:'there' }},\n\n"
        "{{ products|length|pluralize:'A favourite of yours costs,Favourites of yours cost' }}"
        " less now:\n"
        + _PRODUCT_LINES
        + "{{ site_name }}\n\nDon't want these e-mails? Unsubscribe: {{ unsubscribe_url }}\n"
    ),
}


@transaction.atomic
def ensure_demo_journeys() -> list[Journey]:
    """The demo's journeys (active), and marketing consent for the demo members (as if each had
    chosen "Accept all" in the consent banner: sign-up itself asks nothing about offers)."""
    reminder, _ = EmailTemplate.objects.get_or_create(name="Cart reminder", defaults=CART_REMINDER)
    follow_up, _ = EmailTemplate.objects.get_or_create(
        name="First purchase follow-up", defaults=FIRST_PURCHASE
    )
    journeys = [
        _journey(
            "Cart abandonment",
            "Add to cart, no purchase within 2 hours: an email, then a reminder on the site.",
            {
                "trigger": TriggerKind.EVENT_WITHOUT_FOLLOW_UP,
                "trigger_event": EventType.ADD_TO_CART,
                "follow_up_event": EventType.PURCHASE,
                "window_amount": 2,
                "window_unit": TimeUnit.HOURS,
            },
            [
                {"action": StepAction.EMAIL, "email_template": reminder},
                {
                    "action": StepAction.ON_SITE,
                    "delay_amount": 1,
                    "delay_unit": TimeUnit.DAYS,
                    "message_title": "Still thinking it over?",
                    "message_text": "Your cart still holds {{ cart.count }} item(s).",
                },
            ],
        ),
        _journey(
            "Welcome back",
            "Members who have not visited for 60 days see a welcome on their next visit.",
            {"trigger": TriggerKind.NO_VISIT, "window_amount": 60, "window_unit": TimeUnit.DAYS},
            [
                {
                    "action": StepAction.ON_SITE,
                    "message_title": "Welcome back{% if name %}, {{ name }}{% endif %}!",
                    "message_text": "A lot is new since your last visit — have a look around.",
                },
            ],
        ),
        _journey(
            "First purchase follow-up",
            "14 days after a first purchase: how is it going?",
            {
                "trigger": TriggerKind.AFTER_FIRST_PURCHASE,
                "window_amount": 14,
                "window_unit": TimeUnit.DAYS,
            },
            [{"action": StepAction.EMAIL, "email_template": follow_up}],
        ),
        *_catalogue_journeys(),
    ]
    _demo_members_opt_in()
    return journeys


def _catalogue_journeys() -> list[Journey]:
    """One journey per catalogue trigger: an e-mail listing the favourites that fired."""
    almost_gone, _ = EmailTemplate.objects.get_or_create(
        name="Favourite almost gone", defaults=ALMOST_GONE
    )
    back, _ = EmailTemplate.objects.get_or_create(
        name="Favourite back in stock", defaults=BACK_IN_STOCK
    )
    cheaper, _ = EmailTemplate.objects.get_or_create(
        name="Favourite price drop", defaults=PRICE_DROP
    )
    return [
        _journey(
            "Favourite almost gone",
            "A favourite's stock falls to 3 or fewer: one e-mail listing those favourites.",
            {"trigger": TriggerKind.FAVOURITE_LOW_STOCK, "stock_threshold": 3},
            [{"action": StepAction.EMAIL, "email_template": almost_gone}],
        ),
        _journey(
            "Favourite back in stock",
            "A sold-out favourite is back: one e-mail listing those favourites.",
            {"trigger": TriggerKind.FAVOURITE_BACK_IN_STOCK},
            [{"action": StepAction.EMAIL, "email_template": back}],
        ),
        _journey(
            "Favourite price drop",
            "A favourite gets at least 10 % cheaper: one e-mail listing those favourites.",
            {"trigger": TriggerKind.FAVOURITE_PRICE_DROP, "price_drop_percent": 10},
            [{"action": StepAction.EMAIL, "email_template": cheaper}],
        ),
    ]


def _journey(name: str, description: str, trigger: dict, steps: list[dict]) -> Journey:
    journey = Journey.objects.filter(name=name).first()
    if journey is not None:
        return journey
    journey = Journey.objects.create(
        name=name, description=description, status=JourneyStatus.ACTIVE, **trigger
    )
    for order, step in enumerate(steps):
        JourneyStep.objects.create(journey=journey, sort_order=order, **step)
    return journey


def _demo_members_opt_in() -> None:
    members = get_user_model().objects.filter(
        is_staff=False, username__endswith="@example.com", consent__isnull=True
    )
    Consent.objects.bulk_create(
        [Consent(user=user, marketing=True) for user in members], ignore_conflicts=True
    )
