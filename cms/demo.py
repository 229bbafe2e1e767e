"""The demo member site: a pet-goods shop's club. Each builder is idempotent: it finds what a
previous run made (by slug, title or email) and leaves it as the editors may have changed it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.db import transaction
from wagtail.images import get_image_model
from wagtail.models import Page, PageViewRestriction, Site

from cms.demo_images import draw_picture
from cms.models import ContentPage, HomePage, SectionPage
from personalization.models import MemberProfile

User = get_user_model()
Image = get_image_model()
DEMO_MEMBER_PASSWORD = "pawprint-demo"

PICTURES = {
    "hero-home": {"seed": 1, "top": (246, 178, 107), "bottom": (224, 122, 63), "motif": "dog"},
    "dogs": {"seed": 2, "top": (255, 214, 165), "bottom": (233, 150, 90), "motif": "dog"},
    "cats": {"seed": 3, "top": (190, 220, 214), "bottom": (47, 122, 109), "motif": "cat"},
    "members": {"seed": 4, "top": (250, 226, 200), "bottom": (190, 120, 80), "motif": "box"},
    "dog-food": {"seed": 5, "top": (255, 236, 210), "bottom": (214, 140, 84), "motif": "box"},
    "paw-care": {"seed": 6, "top": (255, 245, 225), "bottom": (236, 170, 110), "motif": "dog"},
    "puppy": {"seed": 7, "top": (255, 230, 235), "bottom": (230, 150, 160), "motif": "dog"},
    "cat-play": {"seed": 8, "top": (225, 240, 250), "bottom": (110, 150, 190), "motif": "cat"},
    "cat-food": {"seed": 9, "top": (235, 245, 225), "bottom": (120, 160, 100), "motif": "box"},
    "litter": {"seed": 10, "top": (240, 235, 250), "bottom": (140, 120, 180), "motif": "cat"},
    "offers": {"seed": 11, "top": (255, 240, 200), "bottom": (230, 170, 60), "motif": "box"},
    "vet": {"seed": 12, "top": (220, 240, 235), "bottom": (70, 140, 130), "motif": "dog"},
}


@dataclass(frozen=True)
class DemoPage:
    """One page of the demo tree: where it goes and what it says."""

    parent: str | None
    slug: str
    model: type[Page]
    title: str
    intro: str
    picture: str
    body: list[tuple[str, object]]
    tags: tuple[str, ...] = ()


def _p(text: str) -> tuple[str, str]:
    return ("paragraph", f"<p>{text}</p>")


def _h(text: str) -> tuple[str, dict]:
    return ("heading", {"text": text, "level": "h2"})


HOME_BODY = [
    _h("Picked for your pet"),
    _p(
        "Tell us whether you share your home with a dog or a cat, and the club shows you the "
        "food, care guides and offers that fit them — on this site and in our app."
    ),
    (
        "quote",
        {
            "quote": "The puppy guide arrived the week we brought Coco home. Perfect timing.",
            "attribution": "Mai, member in Yokohama",
        },
    ),
]

DEMO_PAGES: list[DemoPage] = [
    DemoPage(
        "",
        "dogs",
        SectionPage,
        "Dogs",
        "Food, walks and care for every size of dog.",
        "dogs",
        [
            _p("From a first puppy to a senior companion: guides from our staff and vets."),
        ],
    ),
    DemoPage(
        "",
        "cats",
        SectionPage,
        "Cats",
        "Happy indoor cats: food, play and litter that works.",
        "cats",
        [
            _p("Everything we have learned from thirty years of cat owners at our counters."),
        ],
    ),
    DemoPage(
        "",
        "members",
        SectionPage,
        "Members",
        "Offers and advice for club members only.",
        "members",
        [
            _p("Thank you for being a member. These pages are just for you."),
        ],
    ),
    DemoPage(
        "dogs",
        "choosing-dog-food",
        ContentPage,
        "Choosing the right dog food",
        "Puppy, adult or senior? Small or large breed? A short guide to reading the label.",
        "dog-food",
        [
            _h("Start with life stage"),
            _p(
                "Puppies need more protein and calories per kilo than adults; seniors fewer "
                "calories and more fibre. Our <b>life-stage</b> range follows the same split."
            ),
            (
                "quote",
                {
                    "quote": "Switching gradually over a week solved Momo's upset tummy.",
                    "attribution": "Aiko, member since 2021",
                },
            ),
        ],
        ("food", "dog"),
    ),
    DemoPage(
        "dogs",
        "summer-paw-care",
        ContentPage,
        "Summer walks: paw care",
        "Asphalt in August can reach 60 °C. How to protect your dog's paws.",
        "paw-care",
        [
            _h("The five-second test"),
            _p(
                "Put the back of your hand on the pavement. If you can't hold it for five seconds, "
                "it is too hot for paws. Walk early or late, and keep a paw balm at the door."
            ),
        ],
        ("care", "dog", "summer"),
    ),
    DemoPage(
        "dogs",
        "puppy-starter-kit",
        ContentPage,
        "Puppy starter kit",
        "What you need on day one, and what can wait.",
        "puppy",
        [
            _h("Day one"),
            _p(
                "A crate or pen, a bed, food and water bowls, the food the breeder used, a collar "
                "with a tag, a lead, and a few chew toys."
            ),
        ],
        ("dog", "puppy"),
    ),
    DemoPage(
        "cats",
        "indoor-cat-enrichment",
        ContentPage,
        "Indoor cat enrichment",
        "Ten minutes of play twice a day keeps an indoor cat fit and calm.",
        "cat-play",
        [
            _h("Hunt, catch, eat, sleep"),
            _p(
                "End each play session with a small meal: it completes the hunting cycle and "
                "helps your cat settle."
            ),
        ],
        ("cat", "play"),
    ),
    DemoPage(
        "cats",
        "grain-free-cat-food",
        ContentPage,
        "A guide to grain-free cat food",
        "Does your cat need grain-free? What the research says.",
        "cat-food",
        [
            _h("What matters most"),
            _p(
                "Cats are obligate carnivores: look for a named meat as the first ingredient. "
                "Grain-free is one option, not a requirement."
            ),
        ],
        ("cat", "food"),
    ),
    DemoPage(
        "cats",
        "litter-that-works",
        ContentPage,
        "Litter that works",
        "Clumping, silica, wood or tofu? Choosing a litter your cat will use.",
        "litter",
        [
            _p("One box per cat plus one, away from food and water, cleaned daily."),
        ],
        ("cat", "care"),
    ),
    DemoPage(
        "members",
        "member-offers",
        ContentPage,
        "Member offers this month",
        "Your member prices, updated on the first of each month.",
        "offers",
        [
            _h("This month"),
            _p("10% off all life-stage dog food and free shipping on litter over ¥3,000."),
            (
                "quote",
                {
                    "quote": "The member price on litter pays for the membership in a month.",
                    "attribution": "Kenji, Gold member",
                },
            ),
        ],
        ("offers",),
    ),
    DemoPage(
        "members",
        "ask-our-vet",
        ContentPage,
        "Ask our vet",
        "Send a question; our partner vet answers within two working days.",
        "vet",
        [
            _p("Members can ask one question a month. For emergencies, call your local clinic."),
        ],
        ("care",),
    ),
]

DEMO_MEMBERS = [
    {
        "email": "hanako@example.com",
        "name": "Hanako",
        "birth": (1999, 4, 12),
        "gender": "female",
        "region": "tokyo",
        "occupation": "office_worker",
        "tier": "gold",
        "pet": "dog",
    },
    {
        "email": "taro@example.com",
        "name": "Taro",
        "birth": (1980, 9, 3),
        "gender": "male",
        "region": "osaka",
        "occupation": "self_employed",
        "tier": "regular",
        "pet": "cat",
    },
    {
        "email": "yuki@example.com",
        "name": "Yuki",
        "birth": (2001, 1, 22),
        "gender": "female",
        "region": "tokyo",
        "occupation": "student",
        "tier": "silver",
        "pet": "cat",
    },
    {
        "email": "kenji@example.com",
        "name": "Kenji",
        "birth": (1962, 11, 30),
        "gender": "male",
        "region": "hokkaido",
        "occupation": "retired",
        "tier": "platinum",
        "pet": "dog",
    },
    {
        "email": "emma@example.com",
        "name": "Emma",
        "birth": (1991, 7, 8),
        "gender": "female",
        "region": "overseas",
        "occupation": "other",
        "tier": "regular",
        "pet": "none",
    },
]


def ensure_image(key: str) -> Image:
    """The demo picture `key`, drawn and stored on first use."""
    title = f"Demo: {key}"
    existing = Image.objects.filter(title=title).first()
    if existing:
        return existing
    data = draw_picture(**PICTURES[key])
    _ensure_wagtail_root()
    image = Image(title=title, description=f"Illustration: {key.replace('-', ' ')}")
    image.file = ImageFile(_named_bytes(data, f"demo-{key}.jpg"), name=f"demo-{key}.jpg")
    image.save()
    return image


def _named_bytes(data: bytes, name: str):
    import io

    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def _ensure_wagtail_root() -> Page:
    """Wagtail's root page, locale and collection, recreated if the database was flushed."""
    from wagtail.models import Collection, Locale

    root = Page.get_first_root_node()
    if root is not None:
        return root
    locale, _ = Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    return Page.add_root(instance=Page(title="Root", slug="root", locale=locale))


@transaction.atomic
def ensure_home() -> HomePage:
    """The site's HomePage, replacing Wagtail's placeholder welcome page on first run."""
    home = HomePage.objects.first()
    if home is None:
        root = _ensure_wagtail_root()
        home = HomePage(
            title="Pawprint Club",
            slug="pawprint-club",
            hero_title="Everything your pet loves, picked for you",
            hero_text="Join the club for member prices, care guides from our vets, and offers "
            "that fit your dog or cat.",
            hero_image=ensure_image("hero-home"),
            hero_cta_label="Join free",
            body=HOME_BODY,
        )
        root.add_child(instance=home)
        home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            root_page=home,
            is_default_site=True,
            site_name=settings.WAGTAIL_SITE_NAME,
        )
    elif site.root_page_id != home.pk:
        placeholder = site.root_page
        site.root_page = home
        site.site_name = settings.WAGTAIL_SITE_NAME
        site.save()
        if type(placeholder.specific) is Page and not placeholder.get_children().exists():
            placeholder.delete()
    return home


@transaction.atomic
def ensure_page(home: HomePage, spec: DemoPage) -> Page:
    """One demo page, created and published if its slug is not there yet."""
    parent = home if not spec.parent else home.get_children().get(slug=spec.parent)
    existing = parent.get_children().filter(slug=spec.slug).first()
    if existing:
        return existing
    image = ensure_image(spec.picture)
    image_field = "hero_image" if spec.model is ContentPage else "image"
    page = spec.model(
        title=spec.title,
        slug=spec.slug,
        intro=spec.intro,
        body=spec.body,
        show_in_menus=spec.parent == "",
        **{image_field: image},
    )
    parent.add_child(instance=page)
    if spec.tags:
        page.tags.add(*spec.tags)
    page.save_revision().publish()
    return page


def ensure_members_only(home: HomePage) -> PageViewRestriction:
    """Only logged-in members may read the Members section (Wagtail privacy)."""
    members = home.get_children().get(slug="members")
    restriction, _ = PageViewRestriction.objects.get_or_create(
        page=members, defaults={"restriction_type": PageViewRestriction.LOGIN}
    )
    return restriction


def ensure_hero_link(home: HomePage) -> None:
    """Point the home hero's button at the sign-up-friendly Members section."""
    if home.hero_cta_page_id is None:
        home.hero_cta_page = home.get_children().get(slug="members")
        home.save_revision().publish()


@transaction.atomic
def ensure_member(spec: dict) -> User:
    """A demo member with the profile `spec` describes."""
    user = User.objects.filter(username=spec["email"]).first()
    if user is None:
        user = User.objects.create_user(
            username=spec["email"],
            email=spec["email"],
            password=DEMO_MEMBER_PASSWORD,
            first_name=spec["name"],
        )
    MemberProfile.objects.get_or_create(
        user=user,
        defaults={
            "birth_date": datetime.date(*spec["birth"]),
            "gender": spec["gender"],
            "region": spec["region"],
            "occupation": spec["occupation"],
            "tier": spec["tier"],
            "pet_type": spec["pet"],
        },
    )
    return user


def ensure_admin() -> tuple[User, bool]:
    """The demo superuser for the Wagtail admin; returns (user, created)."""
    user = User.objects.filter(username=settings.DEMO_ADMIN_USERNAME).first()
    if user:
        return user, False
    user = User.objects.create_superuser(
        username=settings.DEMO_ADMIN_USERNAME,
        email="admin@example.com",
        password=settings.DEMO_ADMIN_PASSWORD,
    )
    return user, True


# SEGMENTS AND PERSONALIZED CONTENT
# ------------------------------------------------------------------------------

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
        "Read the dog pages again and again: researching, maybe a new puppy.",
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
        "First pet, busy with work, shop on the phone in the evening.",
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
        "Our new puppy starter kit bundles everything from day one.",
    ),
    "dog-people": (
        "Something for your dog",
        "Paw balm, long-lasting chews and summer walk tips, picked for dog owners.",
    ),
    "women-20s": (
        "Your first pet? We've got you",
        "Our starter guides answer the questions every new owner has.",
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
}
DEFAULT_HOME_MESSAGE = (
    "Join the club, it's free",
    "Member prices, vet advice and offers picked for your pet.",
)


def ensure_segments() -> dict:
    """The demo segments (rules built as an editor would), created once by slug."""
    from personalization.models import Segment, SegmentRule
    from personalization.rules import Rule, condition_from_rules

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


def _raw(block_type: str, value) -> dict:
    """A block in StreamField's stored (JSON) form, with image and page ids as numbers."""
    return {"type": block_type, "value": value}


def _message(title: str, text: str) -> list[dict]:
    return [_raw("heading", {"text": title, "level": "h2"}), _raw("paragraph", f"<p>{text}</p>")]


@transaction.atomic
def ensure_personalized_home(home: HomePage) -> None:
    """Give the home page a greeting, the two-question form, a per-segment message and a
    frequency-capped offer, once."""
    home = HomePage.objects.get(pk=home.pk)
    if any(block.block_type == "personalized" for block in home.body):
        return
    segments = ensure_segments()
    members = home.get_children().get(slug="members")
    variants = [
        {"segment": str(segments[slug].pk), "content": _message(*HOME_VARIANTS[slug])}
        for slug in HOME_VARIANTS
    ]
    greeting = {
        "greeting": "Welcome back, {name}!",
        "anonymous_greeting": "Welcome to Pawprint Club",
        "dog_image": ensure_image("dogs").pk,
        "cat_image": ensure_image("cats").pk,
        "other_image": ensure_image("members").pk,
    }
    offer = {
        "offer_key": "litter-free-shipping",
        "title": "Free shipping on litter",
        "text": "This week only: free shipping on every litter order over ¥3,000.",
        "image": ensure_image("litter").pk,
        "button_label": "Shop litter",
        "link": {"page": members.pk, "url": ""},
        "cap": 3,
        "cap_period": "day",
        "fallback": [_raw("paragraph", "<p>Members save on litter every month.</p>")],
    }
    body = [
        _raw("greeting", greeting),
        _raw("personalized", {"variants": variants, "default": _message(*DEFAULT_HOME_MESSAGE)}),
        _raw(
            "profile_form",
            {
                "heading": "Tell us about your pet",
                "text": "Two quick questions and we'll show you what fits.",
                "button_label": "Show me",
            },
        ),
        _raw("offer", offer),
    ]
    home.body = body + list(home.body.raw_data)
    home.save_revision().publish()


@transaction.atomic
def ensure_personalized_dogs_section(home: HomePage) -> None:
    """The Dogs section shows dog people their own picture and tip, once."""
    section = SectionPage.objects.get(slug="dogs", depth=home.depth + 1)
    if any(block.block_type == "personalized" for block in section.body):
        return
    segments = ensure_segments()
    variant = {
        "segment": str(segments["dog-people"].pk),
        "content": [
            _raw(
                "image",
                {
                    "image": ensure_image("paw-care").pk,
                    "alt_text": "A happy dog",
                    "caption": "For you and your dog",
                },
            ),
            _raw("paragraph", "<p>Dog owners' favourite this month: the summer paw balm.</p>"),
        ],
    }
    default = [_raw("paragraph", "<p>Whatever your dog's size, start with our guides below.</p>")]
    section.body = [_raw("personalized", {"variants": [variant], "default": default})] + list(
        section.body.raw_data
    )
    section.save_revision().publish()


# EXPERIMENTS
# ------------------------------------------------------------------------------

HERO_VARIANT = {
    "hero_title": "Food, care and play your pet will love",
    "hero_text": "Free to join: member prices from day one and a vet to answer your questions.",
    "hero_cta_label": "Join the club",
}


@transaction.atomic
def ensure_demo_experiment(home: HomePage):
    """A running page-level test of the home page's hero: control (live) vs a new headline,
    measured on sign-ups, with visits to the Members area as a secondary goal."""
    from experiments.models import Experiment, ExperimentStatus, Goal, GoalKind, Variant

    experiment = Experiment.objects.filter(key="home-hero").first()
    if experiment is not None:
        return experiment
    home = HomePage.objects.get(pk=home.pk)
    draft = home.get_latest_revision_as_object()
    for field, value in HERO_VARIANT.items():
        setattr(draft, field, value)
    revision = draft.save_revision()
    experiment = Experiment(
        key="home-hero",
        name="Home hero headline",
        hypothesis="A headline about what members get wins more sign-ups than a generic one.",
        page=home,
        coverage=1.0,
    )
    experiment.variants = [
        Variant(name="control", weight=0.5, sort_order=0),
        Variant(name="member-benefits", weight=0.5, revision=revision, sort_order=1),
    ]
    experiment.goals = [
        Goal(
            name="Sign-up", is_primary=True, kind=GoalKind.EVENT, event_type="sign_up", sort_order=0
        ),
        Goal(
            name="Visited the Members area",
            kind=GoalKind.PAGE_VISIT,
            page=home.get_children().get(slug="members"),
            sort_order=1,
        ),
    ]
    experiment.save()
    experiment.status = ExperimentStatus.DRAFT
    experiment.start()
    return experiment
