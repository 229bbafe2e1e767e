"""The demo member site's copy agrees with who is reading (issue 18, "The member site"): members
are never asked to join, "welcome back" is for returning visitors, the pet question goes once
it is answered, calls to action lead anonymous visitors to sign-up rather than to a log-in wall,
empty forms answer with a message, and /members/ lists the member pages to members.

The per-visitor parts (hero button, footer, greeting, form) are holes of the render cache, so
each test also reads the page after someone else filled the cache."""

from __future__ import annotations

import re

import pytest
from wagtail.images import get_image_model
from wagtail.images.models import Filter
from wagtail.models import Locale, Page

from cms.demo import DEMO_MEMBER_PASSWORD, DEMO_MEMBERS, DEMO_PAGES
from cms.demo.catalogue import CATALOGUE_PAGES
from cms.demo_images import subject_box
from personalization.models import Visitor
from tests.personalization.helpers import browse_as

pytestmark = pytest.mark.django_db

JOIN_COPY = ("Join free", "Join the club")


def as_member(client, email: str = "hanako@example.com"):
    assert client.login(username=email, password=DEMO_MEMBER_PASSWORD)
    return client


def buttons(html: str) -> list[str]:
    """The links drawn as buttons on a page (calls to action)."""
    return re.findall(r'<a class="button[^"]*" href="([^"]+)"', html)


# MEMBERS AND ANONYMOUS VISITORS
# ------------------------------------------------------------------------------


def test_an_anonymous_visitor_is_invited_to_join_and_every_button_leads_somewhere_open(client):
    html = client.get("/").content.decode()
    assert "Join free" in html
    links = buttons(html)
    assert "/account/signup/" in links  # the hero's button, not the members' log-in wall
    for href in links:
        response = client.get(href)
        assert response.status_code == 200, href
        assert "/account/login/" not in response.get("Location", ""), href


@pytest.mark.parametrize("member", [m["email"] for m in DEMO_MEMBERS])
def test_no_demo_member_is_asked_to_join_or_told_about_a_first_pet(client, member):
    client.get("/")  # an anonymous render fills the shared cache first
    html = as_member(client, member).get("/").content.decode()
    for copy in (*JOIN_COPY, "first pet"):
        assert copy not in html, (member, copy)
    assert "Go to the member area" in html
    assert "/members/" in buttons(html)


def test_a_member_without_a_matching_segment_is_thanked_not_recruited(client):
    html = as_member(client, "taro@example.com").get("/").content.decode()
    assert "Thank you for being a member" in html
    assert "Join the club, it" not in html


def test_the_footer_invites_only_anonymous_visitors_after_a_member_filled_the_cache(client):
    as_member(client).get("/dogs/")
    client.logout()
    assert "Join free" in client.get("/dogs/").content.decode()
    assert "Join free" not in as_member(client).get("/dogs/").content.decode()


# GREETING AND THE PET QUESTION
# ------------------------------------------------------------------------------


def test_a_first_visit_is_greeted_by_name_without_welcome_back(client):
    client.get("/")
    response = client.post("/personalization/traits/", {"name": "Mika", "pet": "cat", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert "Hello, Mika!" in html
    assert "Welcome back" not in html
    assert "Tell us about your pet" not in html  # answered: not asked again


def test_a_returning_visitor_is_welcomed_back(client):
    visitor = Visitor.objects.create(traits={"name": "Mika", "pet": "cat"}, visit_count=3)
    browse_as(client, visitor)
    html = client.get("/").content.decode()
    assert "Welcome back, Mika!" in html
    assert "Tell us about your pet" not in html


def test_an_unknown_visitor_is_asked_about_their_pet_and_not_welcomed_back(client):
    visitor = Visitor.objects.create(visit_count=5)  # returning, but we don't know their name
    browse_as(client, visitor)
    html = client.get("/").content.decode()
    assert "Welcome to Pawprint Club" in html
    assert "Welcome back" not in html
    assert "Tell us about your pet" in html


def test_the_greetings_pet_picture_is_cropped_around_the_face(client):
    html = as_member(client).get("/").content.decode()
    assert "fill-160x160-c100" in re.search(r'<img[^>]*class="greeting-image"[^>]*>', html).group(0)
    dog = get_image_model().objects.get(title="Demo: dogs")
    x, y, width, height = subject_box("dog")
    crop = Filter("fill-160x160-c100").get_transform(dog).get_rect()
    assert crop.width == crop.height  # a square, as drawn in a circle
    centre = ((crop.left + crop.right) / 2, (crop.top + crop.bottom) / 2)
    assert abs(centre[0] - x) < width / 10 and abs(centre[1] - y) < height / 10
    assert crop.width <= width * 1.1  # close around the face, not the whole 900 px high picture


# FORMS
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/account/signup/", "/account/login/"])
def test_an_empty_form_answers_with_a_message(client, path):
    response = client.post(path, {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_an_empty_profile_form_answers_with_a_message(client):
    response = as_member(client).post("/account/profile/", {})
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()


def test_an_empty_pet_question_answers_with_a_message(client):
    response = client.post("/personalization/traits/", {})
    assert response.status_code == 400
    assert "Please tell us your name." in response.content.decode()


def test_the_log_in_error_names_the_email_address_like_the_field(client):
    response = client.post(
        "/account/login/", {"username": "hanako@example.com", "password": "not-this-one"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Email address" in html  # the field's label
    error = re.search(r'<div class="form-errors" role="alert">(.*?)</div>', html, re.S).group(1)
    assert "correct email address and password" in error
    assert "username" not in error


# THE MEMBER AREA AND THE DEMO
# ------------------------------------------------------------------------------


def test_members_see_the_member_pages_listed_and_anonymous_visitors_are_asked_to_log_in(client):
    assert client.get("/members/")["Location"].startswith("/account/login/")
    html = as_member(client).get("/members/").content.decode()
    assert "Nothing here yet" not in html
    for title in ("Member offers this month", "Ask our vet"):
        assert title in html


def test_the_demo_has_twenty_pages_with_bodies_in_english():
    english = Locale.objects.get(language_code="en")
    pages = Page.objects.live().filter(locale=english, depth__gt=2).specific()
    assert len(pages) >= 20
    assert all(len(page.body) >= 1 for page in pages)
    assert len(DEMO_PAGES) + 1 >= 20  # the home page and the demo pages


@pytest.mark.parametrize("spec", CATALOGUE_PAGES, ids=lambda spec: spec.slug)
def test_each_added_page_has_japanese_text_with_the_same_blocks(spec):
    assert spec.ja is not None
    assert spec.ja.title and spec.ja.intro
    assert [kind for kind, _ in spec.ja.body] == [kind for kind, _ in spec.body]


def test_the_shop_lists_products_with_member_prices(client):
    html = client.get("/shop/").content.decode()
    assert "Tofu cat litter, 7 L" in html
    product = client.get("/shop/tofu-cat-litter/").content.decode()
    assert "member price ¥1,150" in product


def test_the_home_page_features_new_products_and_guides_everyone_may_read(client):
    html = client.get("/").content.decode()
    assert "New in the shop" in html and "Guides from our staff and vets" in html
    picked = html.index('class="product-list recommendations"')  # the products picked for you
    featured = html[:picked] + html[html.index("</section>", picked) :]
    cards = re.findall(r'<span class="card-title">([^<]*)</span>', featured)
    assert len(cards) == 8
    assert "Chicken dental chews, 20 pieces" in cards
    assert "Member offers this month" not in cards and "Ask our vet" not in cards
