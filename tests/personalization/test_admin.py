"""Editors build segments in the Wagtail admin with rule rows (never JSON), power users may edit
JSON, and bad conditions are refused with a message. Plus the editor tools: the attribute list,
explain a visitor, segment size and preview as a segment."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from cms.models import HomePage
from personalization.events.models import EventType
from personalization.events.services import event_payload, events_ingest
from personalization.models import Segment, Visitor
from personalization.services import segment_size_compute
from tests.factories import MemberFactory
from tests.personalization.helpers import chosen_segment

pytestmark = pytest.mark.django_db
ADD_URL = "/admin/personalization/segments/add/"


@pytest.fixture
def editor_client(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def segment_form(name="Young Tokyo", match="all", rules=(), advanced=False, condition=""):
    return nested_form_data(
        {
            "name": name,
            "slug": "",
            "description": "",
            "persona_text": "",
            "priority": 5,
            "enabled": "on",
            "match": match,
            "advanced": "on" if advanced else "",
            "condition": condition,
            "rules": inline_formset(
                [{"attribute": a, "operator": o, "value": v} for a, o, v in rules]
            ),
        }
    )


def test_editor_builds_a_segment_from_rule_rows(editor_client):
    response = editor_client.post(
        ADD_URL,
        segment_form(
            rules=[
                ("region", "eq", "tokyo"),
                ("age", "between", "20-29"),
            ]
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    segment = Segment.objects.get(name="Young Tokyo")
    assert segment.slug == "young-tokyo"
    assert segment.condition == {
        "$and": [{"region": {"$ini": ["tokyo"]}}, {"age": {"$gte": 20, "$lte": 29}}]
    }
    assert [r.attribute for r in segment.rules.all()] == ["region", "age"]


def test_the_segment_editor_offers_the_attribute_list(editor_client):
    html = editor_client.get(ADD_URL).content.decode()
    assert "Who is in this segment" in html
    assert 'value="traits.pet"' in html and 'value="views.section.dogs"' in html


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (("age", "between", "twenty"), "not a range"),
        (("age", "gte", "old"), "not a number"),
        (("region", "eq", "atlantis"), "is not a value of Region"),
        (("utm_source", "regex", "(unclosed"), "not a valid pattern"),
        (("utm_source", "gt", "5"), "needs a number attribute"),
        (("no.such.attribute", "eq", "x"), "Unknown attribute"),
        (("age", "eq", ""), "Give a value"),
    ],
)
def test_bad_rules_are_refused_with_a_message(editor_client, rule, message):
    response = editor_client.post(ADD_URL, segment_form(rules=[rule]))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Segment.objects.filter(name="Young Tokyo").exists()


def test_a_segment_needs_at_least_one_rule(editor_client):
    response = editor_client.post(ADD_URL, segment_form(rules=[]))
    assert "Add at least one rule" in response.content.decode()


def test_power_users_may_save_a_json_condition(editor_client):
    response = editor_client.post(
        ADD_URL,
        segment_form(
            name="JSON segment",
            advanced=True,
            condition='{"$or": [{"tier": "gold"}, {"purchases.total_spend": {"$gte": 50000}}]}',
        ),
    )
    assert response.status_code == 302
    assert Segment.objects.get(name="JSON segment").condition["$or"][0] == {"tier": "gold"}


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ('{"age": {"$between": [1, 2]}}', "cannot be used"),
        ('{"age": {"$in": 5}}', "cannot be used"),
        ('{"name": {"$regex": "(("}}', "cannot be used"),
        ("{" * 200 + "}" * 200, ""),
        ('{"a":' * 100 + "1" + "}" * 100, "cannot be used"),
        ("{not json", "Enter a valid JSON"),
        ("{}", "would match every visitor"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a":' * 900 + "1" + "}" * 900, "nested too deeply"),
    ],
)
def test_invalid_json_conditions_are_refused(editor_client, condition, message):
    response = editor_client.post(
        ADD_URL, segment_form(name="Broken", advanced=True, condition=condition)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Segment.objects.filter(name="Broken").exists()


def test_a_stored_condition_that_breaks_at_run_time_never_breaks_the_page(client, caplog):
    Segment.objects.create(
        name="Broken at run time", slug="broken", priority=999, condition={"age": {"$bogus": 1}}
    )
    with caplog.at_level(logging.ERROR, logger="personalization.resolver"):
        response = client.get("/")
    assert response.status_code == 200
    assert chosen_segment(response.content.decode()) == "default"
    assert "broken condition" in caplog.text


def test_attribute_reference_lists_every_key(editor_client):
    html = editor_client.get("/admin/personalization/attributes/").content.decode()
    for key in (
        "country",
        "device",
        "utm_source",
        "traits.pet",
        "age",
        "region",
        "cart.hours_since_update",
        "purchases.total_spend",
        "views.section.&lt;name&gt;",
    ):
        assert f"<code>{key}</code>" in html


def test_explain_shows_which_rule_decided_each_segment(editor_client):
    member = MemberFactory(email="aoi@example.com", username="aoi@example.com")
    Visitor.objects.create(user=member)
    html = editor_client.get(
        "/admin/personalization/explain/", {"q": "aoi@example.com"}
    ).content.decode()
    assert "Women in their 20s" in html
    women = Segment.objects.get(slug="women-20s")
    row = html[html.index(f'data-segment="{women.pk}"') :]
    assert row.startswith(f'data-segment="{women.pk}" data-state="yes"')  # female, 25
    assert "✘ Views of section: dogs is at least 3" in html
    missing = editor_client.get("/admin/personalization/explain/", {"q": "nobody-here"})
    assert "No member or visitor matches" in missing.content.decode()


def test_segment_size_counts_members_and_recent_visitors(editor_client, run_jobs):
    segment = Segment.objects.get(slug="big-spenders")
    visitor = Visitor.objects.create()
    events_ingest(
        payloads=[
            event_payload(
                visitor_uuid=visitor.uuid, type=EventType.PURCHASE, properties={"amount": 31000}
            )
        ]
    )
    with run_jobs():
        response = editor_client.post(f"/admin/personalization/segments/size/{segment.pk}/")
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.size == 1 and segment.size_members == 0
    assert segment.size_computed_at is not None
    assert "1 (0 members)" in editor_client.get("/admin/personalization/segments/").content.decode()
    page = editor_client.get(f"/admin/personalization/segments/size/{segment.pk}/").content.decode()
    assert "<strong>1</strong> (0 members)" in page and "Count now" in page
    listing = editor_client.get("/admin/personalization/segments/").content.decode()
    assert f"/admin/personalization/segments/size/{segment.pk}/" in listing


def test_segment_size_of_a_profile_segment_counts_members():
    segment = Segment.objects.get(slug="tokyo-members")
    size = segment_size_compute(segment_id=segment.pk)
    assert size >= 2  # demo members Hanako and Yuki live in Tokyo


def test_preview_as_a_segment_shows_that_segments_content(editor_client):
    home = HomePage.objects.get()
    modes = dict(home.preview_modes)
    newsletter = Segment.objects.get(slug="newsletter-readers")
    assert modes[f"segment-{newsletter.pk}"] == "As segment: Newsletter readers (used on this page)"
    preview = home.make_preview_request(None, f"segment-{newsletter.pk}")
    assert chosen_segment(preview.content.decode()) == str(newsletter.pk)
    everyone_else = home.make_preview_request(None, "")
    assert chosen_segment(everyone_else.content.decode()) == "default"


def test_preview_can_combine_segments(editor_client):
    home = HomePage.objects.get()
    mobile = Segment.objects.get(slug="mobile-visitors")
    big = Segment.objects.get(slug="big-spenders")
    preview = home.make_preview_request(None, f"segment-{mobile.pk}+{big.pk}")
    assert chosen_segment(preview.content.decode()) == str(big.pk)  # higher priority wins
