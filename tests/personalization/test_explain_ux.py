"""Explain a visitor (issue 18): editors find a visitor by member e-mail or name, or from the
recent visitors (never by a cookie id, which is not shown); each segment's rules read as
sentences without the rule builder's hints; rules on request attributes are "not known outside a
request"; and for each personalized page the page says which variant this visitor sees."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from cms.models import HomePage
from personalization.explain import UNKNOWN, YES, segment_decide, visitors_search
from personalization.models import Segment, Visitor
from personalization.sentences import condition_sentence
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
URL = "/admin/personalization/explain/"


@pytest.fixture
def editor_client(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


@pytest.fixture
def hanako():
    """The demo's Gold member in Tokyo (female, 20s, a dog), with a visit."""
    user = get_user_model().objects.get(email="hanako@example.com")
    visitor, _ = Visitor.objects.get_or_create(user=user)
    visitor.last_seen_at = timezone.now()
    visitor.visit_count = 3
    visitor.save()
    return visitor


def text_of(html: str) -> str:
    """What a reader sees: the page without tags, attributes or scripts."""
    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def segment_row(html: str, slug: str) -> str:
    segment = Segment.objects.get(slug=slug)
    start = html.index(f'data-segment="{segment.pk}"')
    return html[start : html.index("</tr>", start)]


def test_explain_by_member_email_shows_sentences_and_links(editor_client, hanako):
    html = editor_client.get(URL, {"q": "HANAKO@example.com"}).content.decode()
    assert "data-explained" in html
    young = segment_row(html, "women-20s")
    assert 'data-state="yes"' in young
    assert "Age is between 20 and 29" in young
    assert "(e.g." not in html and "comma-separated" not in html
    assert "Gender is Female" in young  # a choice's label, not its value
    segment = Segment.objects.get(slug="women-20s")
    assert f'href="/admin/personalization/segments/edit/{segment.pk}/"' in young


def test_explain_by_name_finds_the_member(editor_client, hanako):
    hanako.user.first_name, hanako.user.last_name = "Hanako", "Yamada"
    hanako.user.save()
    html = editor_client.get(URL, {"q": "yamada"}).content.decode()
    assert "data-explained" in html
    assert "Hanako Yamada" in html


def test_a_visitor_found_by_declared_name(editor_client):
    Visitor.objects.create(traits={"name": "Mochi's owner"}, last_seen_at=timezone.now())
    rows = visitors_search("mochi")
    assert [row.label for row in rows] == ["Mochi's owner (visitor, not a member)"]


def test_several_matches_are_listed_to_choose_from(editor_client):
    for n in range(2):
        member = MemberFactory(first_name="Sakura", username=f"sakura{n}@example.com")
        Visitor.objects.create(user=member, last_seen_at=timezone.now())
    html = editor_client.get(URL, {"q": "sakura"}).content.decode()
    assert "data-explained" not in html
    assert "2 visitors match" in html
    assert html.count('href="?visitor=') == 2


def test_recent_visitors_are_listed_without_their_ids(editor_client, hanako):
    anonymous = Visitor.objects.create(last_seen_at=timezone.now())
    html = editor_client.get(URL).content.decode()
    assert "Recent visitors" in html
    assert "hanako@example.com" in html
    assert f'href="?visitor={anonymous.pk}"' in html
    assert str(anonymous.uuid) not in html and str(hanako.uuid) not in html
    page = editor_client.get(URL, {"visitor": anonymous.pk}).content.decode()
    assert "Anonymous visitor" in page and "data-explained" in page
    assert str(anonymous.uuid) not in page


def test_request_attributes_are_not_known_outside_a_request(editor_client, hanako):
    html = editor_client.get(URL, {"visitor": hanako.pk}).content.decode()
    mobile = segment_row(html, "mobile-visitors")
    assert 'data-state="unknown"' in mobile
    assert "Depends on the request" in mobile
    assert "not known outside a request" in mobile
    assert "✘" not in mobile


def test_three_valued_logic_of_a_segment():
    segment = Segment(
        pk=1,
        name="Either",
        priority=1,
        condition={"$or": [{"device": "mobile"}, {"traits.pet": "dog"}]},
    )
    dog = segment_decide(segment, {"traits": {"pet": "dog"}}, {})
    cat = segment_decide(segment, {"traits": {"pet": "cat"}}, {})
    assert dog.state == YES
    assert cat.state == UNKNOWN
    assert [c.state for c in cat.clauses] == [UNKNOWN, "no"]


def test_json_conditions_read_as_sentences():
    overseas = {"$or": [{"region": "overseas"}, {"country": {"$exists": True, "$nin": ["JP"]}}]}
    assert condition_sentence(overseas) == (
        "Region is Overseas or Country (ISO code) is known and Country (ISO code) is not JP"
    )
    assert condition_sentence(
        {"$and": [{"is_member": {"$eq": True}}, {"tier": {"$in": ["gold", "platinum"]}}]}
    ) == ("Is a logged-in member: yes and Membership tier is one of Gold, Platinum")
    assert condition_sentence({"utm_source": {"$regexi": "news\\-letter"}}) == (
        "UTM source contains “news-letter”"
    )
    assert condition_sentence({"purchases.categories": {"$elemMatch": {"$eq": "cat-food"}}}) == (
        "Categories bought include cat-food"
    )
    assert condition_sentence({"$not": {"age": {"$lt": 20}}}) == "not (Age is less than 20)"


def test_each_personalized_page_says_which_variant(editor_client, hanako):
    html = editor_client.get(URL, {"visitor": hanako.pk}).content.decode()
    assert "data-explain-pages" in html
    home = HomePage.objects.get()
    start = html.index(f'data-page="{home.pk}"')
    home_row = html[start : html.index("</tr>", start)]
    # Hanako's highest-priority segment with a home variant: dog people (35) over young women
    dogs = Segment.objects.get(slug="dog-people")
    assert f"/admin/personalization/segments/edit/{dogs.pk}/" in home_row, text_of(home_row)
    # newsletter readers (70) outrank it but depend on the request
    assert "Newsletter readers" in home_row and "Unless, in the request" in home_row


def test_a_member_who_never_visited_is_explained_from_the_profile(editor_client):
    MemberFactory(username="new@example.com")
    html = editor_client.get(URL, {"q": "new@example.com"}).content.decode()
    assert "has not visited the site yet" in html
    assert "data-explained" in html


def test_unknown_query_says_so(editor_client):
    html = editor_client.get(URL, {"q": "nobody-at-all"}).content.decode()
    assert "No member or visitor matches" in html
