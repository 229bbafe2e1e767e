"""Each demo segment, walked end to end: the visitor does what puts them in the segment, then
the home page (real middleware, resolver, blocks and templates) shows that segment's message."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from personalization.events.models import EventType
from personalization.events.services import event_payload, events_ingest
from personalization.models import Segment, Visitor
from tests.factories import MemberFactory, MemberProfileFactory, UserFactory
from tests.personalization.helpers import browse_as, chosen_segment

pytestmark = pytest.mark.django_db
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36"


def home_message(client, **extra) -> tuple[str, str]:
    response = client.get("/", HTTP_USER_AGENT=extra.pop("ua", DESKTOP), **extra)
    assert response.status_code == 200
    html = response.content.decode()
    segment = chosen_segment(html)
    slug = "default" if segment == "default" else Segment.objects.get(pk=segment).slug
    return slug, html


def test_a_plain_first_visit_sees_the_default_message(client):
    slug, html = home_message(client)
    assert slug == "default"
    assert "Join the club" in html
    assert "Welcome to Pawprint Club" in html


def test_newsletter_link_shows_the_newsletter_variant_on_every_page_of_the_visit(client):
    slug, html = home_message(client, QUERY_STRING="utm_source=newsletter&utm_medium=email")
    assert slug == "newsletter-readers"
    assert "Thanks for reading our newsletter" in html
    slug, _ = home_message(client)  # next page of the visit: no UTM in the URL any more
    assert slug == "newsletter-readers"


def test_mobile_visitors_see_the_mobile_variant(client):
    assert home_message(client, ua=IPHONE)[0] == "mobile-visitors"


def test_visitors_from_abroad_see_the_overseas_variant(client):
    assert home_message(client, HTTP_CF_IPCOUNTRY="US")[0] == "overseas-visitors"
    assert home_message(client, HTTP_CF_IPCOUNTRY="JP")[0] == "default"


def test_a_country_header_counts_only_from_a_trusted_proxy(client, settings):
    """Anyone can send CF-IPCountry; it is believed from API_TRUSTED_PROXIES (the CDN or the
    proxy in front of the site), as in the API."""
    claimed = {"HTTP_CF_IPCOUNTRY": "US", "REMOTE_ADDR": "203.0.113.9"}
    assert home_message(client, **claimed)[0] == "default"
    settings.API_TRUSTED_PROXIES = ["203.0.113.0/24"]
    assert home_message(client, **claimed)[0] == "overseas-visitors"


def test_three_visits_to_the_dog_section_make_a_dog_section_fan(client, run_jobs):
    with run_jobs():
        for _ in range(3):
            assert client.get("/dogs/").status_code == 200
    slug, html = home_message(client)
    assert slug == "dog-section-fans"
    assert "New for dogs this month" in html


def test_declaring_a_dog_greets_by_name_with_a_dog_picture(client):
    client.get("/")
    response = client.post("/personalization/traits/", {"name": "Mika", "pet": "dog", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    slug, html = home_message(client)
    assert slug == "dog-people"
    assert "Hello, Mika!" in html and "Welcome back" not in html  # a first visit
    assert "greeting-dog" in html and "demo-dogs" in html
    assert "Tell us about your pet" not in html  # the form is not asked twice
    dogs = client.get("/dogs/").content.decode()
    assert chosen_segment(dogs) == str(Segment.objects.get(slug="dog-people").pk)


def ingest(visitor, type_, hours_ago=0.0, **properties):
    events_ingest(
        payloads=[
            event_payload(
                visitor_uuid=visitor.uuid,
                type=type_,
                properties=properties,
                occurred_at=timezone.now() - datetime.timedelta(hours=hours_ago),
            )
        ]
    )


def test_an_abandoned_cart_shows_the_cart_reminder(client):
    visitor = Visitor.objects.create()
    ingest(visitor, EventType.ADD_TO_CART, hours_ago=2, sku="litter-7l", price=1800)
    browse_as(client, visitor)
    slug, html = home_message(client)
    assert slug == "cart-abandoners"
    assert "You left something in your cart" in html


def test_a_cart_changed_minutes_ago_is_not_abandoned(client):
    visitor = Visitor.objects.create()
    ingest(visitor, EventType.ADD_TO_CART, hours_ago=0.1, sku="litter-7l", price=1800)
    browse_as(client, visitor)
    assert home_message(client)[0] == "default"


def test_buying_cat_food_in_the_last_90_days_suggests_a_restock(client):
    visitor = Visitor.objects.create()
    ingest(visitor, EventType.PURCHASE, hours_ago=24 * 20, amount=4200, category="cat-food")
    browse_as(client, visitor)
    assert home_message(client)[0] == "cat-food-buyers"


def test_cat_food_bought_long_ago_does_not_count(client):
    visitor = Visitor.objects.create()
    ingest(visitor, EventType.PURCHASE, hours_ago=24 * 200, amount=4200, category="cat-food")
    browse_as(client, visitor)
    assert home_message(client)[0] == "default"


def test_spending_30000_yen_makes_a_big_spender(client):
    visitor = Visitor.objects.create()
    ingest(visitor, EventType.PURCHASE, hours_ago=24 * 200, amount=18000, category="dog-food")
    ingest(visitor, EventType.PURCHASE, hours_ago=24 * 150, amount=12500, category="toys")
    browse_as(client, visitor)
    slug, html = home_message(client)
    assert slug == "big-spenders"
    assert "one of our best customers" in html


def test_a_woman_in_her_twenties_sees_her_variant(client):
    user = UserFactory()
    MemberProfileFactory(
        user=user,
        gender="female",
        region="osaka",
        pet_type="none",
        birth_date=timezone.localdate().replace(year=timezone.localdate().year - 24, day=1),
    )
    client.force_login(user)
    assert home_message(client)[0] == "women-20s"


def test_a_tokyo_member_sees_the_shibuya_pick_up(client):
    user = UserFactory()
    MemberProfileFactory(
        user=user,
        gender="male",
        region="tokyo",
        pet_type="none",
        birth_date=datetime.date(1980, 1, 1),
    )
    client.force_login(user)
    slug, html = home_message(client)
    assert slug == "tokyo-members"
    assert "Pick it up in Shibuya" in html


def test_when_several_segments_match_the_highest_priority_wins(client):
    member = MemberFactory()  # Tokyo, 25, female, dog: women-20s (30), dog people (35), Tokyo (20)
    client.force_login(member)
    assert home_message(client, QUERY_STRING="utm_source=newsletter")[0] == "newsletter-readers"
    client.cookies.pop("pv_campaign", None)
    assert home_message(client)[0] == "dog-people"
