"""The reach estimate of the segment editor (issue 18): the rules being edited are posted as
the form has them and counted on members and recent visitors now; a half-typed rule is a 400
with one short message for its field, never a 500."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from personalization import reach
from personalization.models import Visitor
from personalization.reach import reach_estimate
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
URL = "/admin/personalization/segments/estimate/"


@pytest.fixture
def editor_client(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def draft(rules=(), match="all", advanced=False, condition=""):
    return nested_form_data(
        {
            "name": "",
            "match": match,
            "advanced": "on" if advanced else "",
            "condition": condition,
            "rules": inline_formset(
                [{"attribute": a, "operator": o, "value": v} for a, o, v in rules]
            ),
        }
    )


def recent_visitor(**fields) -> Visitor:
    return Visitor.objects.create(last_seen_at=timezone.now(), **fields)


def test_the_estimate_counts_members_and_recent_visitors_now(editor_client):
    cat_rule = [("traits.pet", "eq", "cat")]
    before = editor_client.post(URL, draft(cat_rule)).json()
    MemberFactory(profile__pet_type="cat")
    MemberFactory(profile__pet_type="dog")
    recent_visitor(traits={"pet": "Cat"})  # stored in another case: still a cat
    recent_visitor(traits={"pet": "cat"})
    recent_visitor(traits={"pet": "dog"})
    old = timezone.now() - datetime.timedelta(days=45)
    Visitor.objects.create(last_seen_at=old, traits={"pet": "cat"})  # not a recent visitor

    response = editor_client.post(URL, draft(cat_rule))

    assert response.status_code == 200
    body = response.json()
    assert body["members"] == before["members"] + 1
    assert body["visitors"] == before["visitors"] + 2
    assert body["total"] == body["members"] + body["visitors"]
    assert body["exact"] is True
    assert f"{body['members']} member" in body["text"] and "match now" in body["text"]


def test_the_estimate_follows_the_match_mode_and_json(editor_client):
    recent_visitor(traits={"pet": "cat"}, visit_count=7)
    rules = [("traits.pet", "eq", "cat"), ("visit_count", "gte", "5")]
    both = editor_client.post(URL, draft(rules, match="all")).json()
    either = editor_client.post(URL, draft(rules, match="any")).json()
    assert either["total"] >= both["total"] >= 1
    as_json = editor_client.post(
        URL, draft(advanced=True, condition='{"visit_count": {"$gte": 5}, "traits.pet": "cat"}')
    ).json()
    assert as_json["visitors"] == both["visitors"]


def test_request_only_rules_are_said_to_count_nobody_here(editor_client):
    body = editor_client.post(URL, draft([("device", "eq", "mobile")])).json()
    assert body["total"] == 0
    assert body["note"].startswith("Device: known only during a visit")


@pytest.mark.parametrize(
    ("rules", "field", "message"),
    [
        ([("age", "gte", "")], "rules-0-value", "Give a value for Age."),
        ([("age", "between", "20-")], "rules-0-value", "“20-” is not a range; give both ends."),
        ([("traits.pet", "eq", "Hamster")], "rules-0-value", "“Hamster” is not a value of Pet."),
        ([("traits.pet", "gt", "3")], "rules-0-value", "needs a number attribute"),
        ([("age", "gte", "20"), ("", "", "")], "rules-1-value", "Unknown attribute"),
        ([("age", "bogus", "1")], "rules-0-value", "Choose how to compare Age."),
        ([], "__all__", "Add at least one rule"),
    ],
)
def test_a_half_typed_rule_is_a_400_with_one_short_message(editor_client, rules, field, message):
    response = editor_client.post(URL, draft(rules))
    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == [field]
    assert message in body["message"] and len(body["message"]) < 80


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[" * 5000 + "]" * 5000, "not valid JSON"),
        ('{"age": {"$between": 1}}', "cannot be used"),
        ("{}", "would match every visitor"),
    ],
)
def test_bad_json_is_a_400_too(editor_client, condition, message):
    response = editor_client.post(URL, draft(advanced=True, condition=condition))
    assert response.status_code == 400
    assert message in response.json()["errors"]["condition"]


@pytest.mark.parametrize(
    "data",
    [
        {"rules-TOTAL_FORMS": "many"},
        {"rules-TOTAL_FORMS": "-5"},
        {"rules-TOTAL_FORMS": "99999999", "rules-0-attribute": "age"},
    ],
)
def test_a_mangled_form_is_a_400_not_a_500(editor_client, data):
    assert editor_client.post(URL, data).status_code == 400


def test_the_estimate_needs_an_editor(client):
    response = client.post(URL, draft([("age", "gte", "20")]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_only_post_is_answered(editor_client):
    assert editor_client.get(URL).status_code == 405


def test_a_large_group_is_estimated_from_a_bounded_sample(monkeypatch):
    """Past the bound, at most SAMPLE people per group are evaluated and the count is scaled."""
    monkeypatch.setattr(reach, "SAMPLE", 4)
    for _ in range(10):
        recent_visitor(traits={"pet": "cat"})
    result = reach_estimate(condition={"traits.pet": {"$ini": ["cat"]}})
    assert result.exact is False
    assert result.evaluated == 8  # 4 members + 4 visitors
    assert result.visitors == result.visitors_total  # every recent visitor here is a cat
    assert result.visitors_total >= 10
