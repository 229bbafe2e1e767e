"""The demo segments (built as an editor would) and the personalized blocks of the home page
and the Dogs section."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from wagtail.models import Page

from cms.demo.images import ensure_image
from cms.models import HomePage, SectionPage
from personalization.models import Segment, SegmentRule
from personalization.rules import Rule, condition_from_rules

# (slug, name, priority, match, rules as (attribute, operator, value), persona)
DEMO_SEGMENTS = [
    (
        "cart-abandoners",
        "Cart abandoners",
        90,
        "all",
        [("cart.count", "gte", "1"), ("cart.hours_since_update", "gte", "1")],
        "Put food in the cart and left. Usually comparing prices; a nudge and free shipping help.",
    ),
    (
        "newsletter-readers",
        "Newsletter readers",
        70,
        "all",
        [("utm_source", "eq", "newsletter")],
        "Came from this month's newsletter. Already like us; want the offer they clicked for.",
    ),
    (
        "big-spenders",
        "Big spenders",
        60,
        "all",
        [("purchases.total_spend", "gte", "30000")],
        "Spent ¥30,000 or more. Loyal, value service and recognition over discounts.",
    ),
    (
        "cat-food-buyers",
        "Cat food buyers (90 days)",
        50,
        "all",
        [("purchases.category_days.cat-food", "lte", "90")],
        "Bought cat food in the last three months: due to restock soon.",
    ),
    (
        "dog-section-fans",
        "Dog section fans",
        40,
        "all",
        [("views.section.dogs", "gte", "3")],
        "Read the dog pages again and again: planning something for their dog.",
    ),
    (
        "dog-people",
        "Dog people",
        35,
        "all",
        [("traits.pet", "eq", "dog")],
        "Told us they have a dog.",
    ),
    (
        "women-20s",
        "Women in their 20s",
        30,
        "all",
        [("gender", "eq", "female"), ("age", "between", "20-29")],
        "Busy with work, shop on the phone in the evening.",
    ),
    (
        "tokyo-members",
        "Tokyo members",
        20,
        "all",
        [("is_member", "true", ""), ("region", "eq", "tokyo")],
        "Members near our Shibuya store: click and collect works for them.",
    ),
    (
        "mobile-visitors",
        "Mobile visitors",
        10,
        "all",
        [("device", "eq", "mobile")],
        "On a phone: short copy, one clear button.",
    ),
    (
        "club-members",
        "Club members",
        5,
        "all",
        [("is_member", "true", "")],
        "Logged-in members no other segment speaks to: thank them, never ask them to join.",
    ),
]
OVERSEAS_CONDITION = {
    "$or": [{"region": "overseas"}, {"country": {"$exists": True, "$nin": ["JP"]}}]
}

HOME_VARIANTS = {
    "cart-abandoners": (
        "You left something in your cart",
        "Finish your order today and shipping is on us.",
    ),
    "newsletter-readers": (
        "Thanks for reading our newsletter",
        "Here is the 10% newsletter discount on every food order this week.",
    ),
    "big-spenders": (
        "Thank you for being one of our best customers",
        "Your next vet consultation is free: just ask at the counter.",
    ),
    "cat-food-buyers": (
        "Time to restock cat food?",
        "It's been a while since your last bag. Re-order in one click.",
    ),
    "dog-section-fans": (
        "New for dogs this month",
        "Fresh guides on food, walks and care, and this month's picks for dogs of every age.",
    ),
    "dog-people": (
        "Something for your dog",
        "Paw balm, long-lasting chews and summer walk tips, picked for dog owners.",
    ),
    "women-20s": (
        "Delivered after work",
        "Order on your phone by 10 pm and choose an evening delivery slot for the next day.",
    ),
    "tokyo-members": (
        "Pick it up in Shibuya",
        "Order by 3 pm and collect from our Shibuya store the same evening.",
    ),
    "overseas-visitors": (
        "We ship worldwide",
        "Members overseas get flat-rate international shipping.",
    ),
    "mobile-visitors": (
        "Shop on the go",
        "Save your pet's favourites and re-order from your phone.",
    ),
    "club-members": (
        "Thank you for being a member",
        "Your member prices apply to every order, and this month's offers are in the member area.",
    ),
}
DEFAULT_HOME_MESSAGE = (
    "Join the club, it's free",
    "Member prices, vet advice and offers picked for your pet.",
)


def ensure_segments() -> dict:
    """The demo segments (rules built as an editor would), created once by slug."""
    segments = {}
    for slug, name, priority, match, rules, persona in DEMO_SEGMENTS:
        segment = Segment.objects.filter(slug=slug).first()
        if segment is None:
            condition = condition_from_rules(match, [Rule(*r) for r in rules])
            segment = Segment(
                slug=slug,
                name=name,
                priority=priority,
                match=match,
                condition=condition,
                persona_text=persona,
            )
            segment.rules = [SegmentRule(attribute=a, operator=o, value=v) for a, o, v in rules]
            segment.save()
        segments[slug] = segment
    overseas = Segment.objects.filter(slug="overseas-visitors").first()
    if overseas is None:
        overseas = Segment.objects.create(
            slug="overseas-visitors",
            name="Overseas visitors",
            priority=15,
            advanced=True,
            condition=OVERSEAS_CONDITION,
            persona_text="Members abroad and visitors from outside Japan.",
        )
    segments["overseas-visitors"] = overseas
    return segments


def stored_block(block_type: str, value) -> dict:
    """A block in StreamField's stored (JSON) form, with image and page ids as numbers."""
    return {"type": block_type, "value": value}


def _message(title: str, text: str) -> list[dict]:
    return [
        stored_block("heading", {"text": title, "level": "h2"}),
        stored_block("paragraph", f"<p>{text}</p>"),
    ]


@dataclass(frozen=True)
class HomeTexts:
    """What the personalized home blocks say, in one language (the Japanese ones are in
    `cms.demo.japanese`): one message per segment, the default, the greeting, the two-question
    form and the capped offer."""

    variants: dict[str, tuple[str, str]]
    default: tuple[str, str]
    greeting: str
    anonymous_greeting: str
    form: tuple[str, str, str]  # heading, text, button label
    offer: tuple[str, str, str, str]  # title, text, button label, fallback paragraph
    picks: str = "Picked for you"  # the recommendations block's heading


HOME_TEXTS = HomeTexts(
    variants=HOME_VARIANTS,
    default=DEFAULT_HOME_MESSAGE,
    greeting="Welcome back, {name}!",
    anonymous_greeting="Welcome to Pawprint Club",
    form=("Tell us about your pet", "Two quick questions and we'll show you what fits.", "Show me"),
    offer=(
        "Free shipping on litter",
        "This week only: free shipping on every litter order over ¥3,000.",
        "Shop litter",
        "Members save on litter every month.",
    ),
)


def home_blocks(texts: HomeTexts, offer_page: Page) -> list[dict]:
    """The home page's greeting, per-segment message, two-question form, frequency-capped offer
    (leading to `offer_page`) and products picked for the visitor, in stored form; the same
    segments in every language."""
    segments = ensure_segments()
    variants = [
        {"segment": str(segments[slug].pk), "content": _message(*message)}
        for slug, message in texts.variants.items()
    ]
    greeting = {
        "greeting": texts.greeting,
        "anonymous_greeting": texts.anonymous_greeting,
        "dog_image": ensure_image("dogs").pk,
        "cat_image": ensure_image("cats").pk,
        "other_image": ensure_image("members").pk,
    }
    title, text, button_label, fallback = texts.offer
    offer = {
        "offer_key": "litter-free-shipping",
        "title": title,
        "text": text,
        "image": ensure_image("litter").pk,
        "button_label": button_label,
        "link": {"page": offer_page.pk, "url": ""},
        "cap": 3,
        "cap_period": "day",
        "fallback": [stored_block("paragraph", f"<p>{fallback}</p>")],
    }
    heading, form_text, form_button = texts.form
    return [
        stored_block("greeting", greeting),
        stored_block("personalized", {"variants": variants, "default": _message(*texts.default)}),
        stored_block(
            "profile_form",
            {"heading": heading, "text": form_text, "button_label": form_button},
        ),
        stored_block("offer", offer),
        stored_block(
            "recommendations",
            {
                "heading": texts.picks,
                "key": "home-picks",
                "limit": 4,
                "exploration": 10,
                "category": "",
                "pet_type": "",
            },
        ),
    ]


@transaction.atomic
def ensure_personalized_home(home: HomePage) -> None:
    """Give the home page a greeting, the two-question form, a per-segment message and a
    frequency-capped offer, once."""
    home = HomePage.objects.get(pk=home.pk)
    if any(block.block_type == "personalized" for block in home.body):
        return
    # The offer leads to a page every visitor may read (not to the members' log-in wall).
    litter = home.get_children().get(slug="cats").get_children().get(slug="litter-that-works")
    home.body = home_blocks(HOME_TEXTS, litter) + list(home.body.raw_data)
    home.save_revision().publish()


@transaction.atomic
def ensure_personalized_dogs_section(home: HomePage) -> None:
    """The Dogs section shows dog people their own picture and tip, once."""
    section = SectionPage.objects.get(pk=home.get_children().get(slug="dogs").pk)
    if any(block.block_type == "personalized" for block in section.body):
        return
    segments = ensure_segments()
    variant = {
        "segment": str(segments["dog-people"].pk),
        "content": [
            stored_block(
                "image",
                {
                    "image": ensure_image("paw-care").pk,
                    "alt_text": "A happy dog",
                    "caption": "For you and your dog",
                },
            ),
            stored_block(
                "paragraph", "<p>Dog owners' favourite this month: the summer paw balm.</p>"
            ),
        ],
    }
    default = [
        stored_block("paragraph", "<p>Whatever your dog's size, start with our guides below.</p>")
    ]
    section.body = [
        stored_block("personalized", {"variants": [variant], "default": default})
    ] + list(section.body.raw_data)
    section.save_revision().publish()
