"""The visitor's own data through the API: tokens, "why am I seeing this", declaring traits,
erasing everything and exporting it."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from experiments.models import Assignment, DailyAggregate, Experiment, Exposure
from experiments.services import aggregates_snapshot, exposure_record
from personalization.events.models import Event, EventType
from personalization.events.services import event_payload, events_ingest
from personalization.models import Consent, Segment, Visitor
from tests.api.helpers import api_as, api_segments
from tests.factories import MemberFactory
from tests.personalization.helpers import signed_visitor_cookie

pytestmark = pytest.mark.django_db


def ingest(visitor: Visitor, event_type: str, **properties) -> None:
    events_ingest(
        payloads=[event_payload(visitor_uuid=visitor.uuid, type=event_type, properties=properties)]
    )


# TOKENS
# ------------------------------------------------------------------------------


def test_a_new_visitor_token_names_a_new_visitor_and_works_on_later_calls():
    response = APIClient().post("/api/v1/visitors/")
    assert response.status_code == 201
    issued = response.json()
    assert set(issued) == {"visitor_token", "visitor", "expires_at"}
    assert "no-store" in response["Cache-Control"]
    me = APIClient().get("/api/v1/visitor/", HTTP_X_VISITOR_TOKEN=issued["visitor_token"])
    assert me.status_code == 200 and me.json()["visitor"] == issued["visitor"]


def test_a_token_is_refreshed_for_the_same_visitor_and_a_browser_keeps_its_cookie_id():
    visitor_uuid = uuid.uuid4()
    refreshed = api_as(visitor_uuid).post("/api/v1/visitors/").json()
    assert refreshed["visitor"] == str(visitor_uuid)
    browser = APIClient()
    browser.cookies["pv"] = signed_visitor_cookie(visitor_uuid)
    assert browser.post("/api/v1/visitors/").json()["visitor"] == str(visitor_uuid)


# WHY AM I SEEING THIS
# ------------------------------------------------------------------------------


def test_the_visitor_sees_their_traits_behaviour_and_why_they_are_in_each_segment():
    visitor = Visitor.objects.create(traits={"name": "Mika", "pet": "dog"})
    ingest(visitor, EventType.PURCHASE, amount=32000, category="dog-food")
    me = api_as(visitor.uuid).get("/api/v1/visitor/").json()
    assert me["traits"] == {"name": "Mika", "pet": "dog"}
    assert me["profile"]["purchases"]["count"] == 1
    assert me["profile"]["purchases"]["total_spend"] == 32000
    by_slug = {s["slug"]: s for s in me["segments"]}
    assert list(by_slug) == ["big-spenders", "dog-people"]  # priority order
    assert by_slug["dog-people"]["decided_by"] == "all rules matched"
    assert by_slug["dog-people"]["rules"] == [{"rule": "Pet is dog", "matched": True}]


def test_why_am_i_seeing_this_uses_the_landing_url_the_frontend_reports():
    api = api_as(uuid.uuid4(), HTTP_X_PAGE_URL="https://app.example/?utm_source=newsletter")
    segments = api.get("/api/v1/visitor/").json()["segments"]
    assert [s["slug"] for s in segments] == ["newsletter-readers"]
    assert segments[0]["rules"][0]["matched"] is True


# DECLARING TRAITS
# ------------------------------------------------------------------------------


def test_declared_traits_greet_the_visitor_on_the_next_page():
    visitor_uuid = uuid.uuid4()
    api = api_as(visitor_uuid)
    response = api.patch("/api/v1/visitor/", {"name": "  Mika  ", "pet": "dog"}, format="json")
    assert response.status_code == 200
    assert response.json()["traits"] == {"name": "Mika", "pet": "dog"}
    assert Visitor.objects.get(uuid=visitor_uuid).traits == {"name": "Mika", "pet": "dog"}
    body = api.get("/api/v1/pages/find/", {"path": "/"}).json()["body"]
    assert body[0]["value"]["text"] == "Hello, Mika!"
    dog_people = Segment.objects.get(slug="dog-people").pk
    assert api_segments(body) == [str(dog_people)]


def test_a_partial_update_keeps_the_other_trait():
    visitor = Visitor.objects.create(traits={"name": "Mika", "pet": "dog"})
    response = api_as(visitor.uuid).patch("/api/v1/visitor/", {"pet": "cat"}, format="json")
    assert response.json()["traits"] == {"name": "Mika", "pet": "cat"}


def test_a_member_declares_traits_on_their_own_visitor():
    member = MemberFactory()
    api_as(uuid.uuid4(), user=member).patch("/api/v1/visitor/", {"name": "Sora"}, format="json")
    assert Visitor.objects.get(user=member).traits["name"] == "Sora"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "<script>"}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"name": True}, "name"),
        ({"name": ["Mika"]}, "name"),
        ({"name": "Mi\x00ka"}, "name"),
        ({"pet": "dragon"}, "pet"),
        ({"pet": None}, "pet"),
        ({}, "name"),
    ],
)
def test_bad_traits_are_400_naming_the_field_and_nothing_is_stored(body, field):
    visitor_uuid = uuid.uuid4()
    response = api_as(visitor_uuid).patch("/api/v1/visitor/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Visitor.objects.filter(uuid=visitor_uuid).exists()


def test_a_body_that_is_not_json_is_400_or_415():
    api = api_as(uuid.uuid4())
    broken = api.generic("PATCH", "/api/v1/visitor/", "{not json", content_type="application/json")
    assert broken.status_code == 400 and "JSON" in broken.json()["detail"]
    form = api.generic("PATCH", "/api/v1/visitor/", "name=x", content_type="text/plain")
    assert form.status_code == 415


# ERASING AND EXPORTING
# ------------------------------------------------------------------------------


def visitor_with_history() -> tuple[Visitor, Experiment]:
    """A visitor with traits, events, a merged anonymous past and an experiment exposure."""
    visitor = Visitor.objects.create(traits={"name": "Mika", "pet": "cat"})
    ingest(visitor, EventType.ADD_TO_CART, sku="litter-7l", price=1800)
    earlier = Visitor.objects.create(merged_into=visitor, traits={"name": "Mika"})
    experiment = Experiment.objects.get(key="home-hero")
    exposure_record(
        experiment_id=experiment.pk,
        variant_id=experiment.variants.first().pk,
        visitor=str(visitor.uuid),
    )
    assert earlier.pk and Exposure.objects.filter(visitor=visitor).exists()
    return visitor, experiment


def test_erasing_deletes_events_traits_and_assignments_but_keeps_aggregates():
    visitor, experiment = visitor_with_history()
    aggregates_snapshot(experiment=experiment)
    aggregates = DailyAggregate.objects.filter(experiment=experiment).count()
    assert aggregates
    response = api_as(visitor.uuid).delete("/api/v1/visitor/")
    assert response.status_code == 204
    assert not Visitor.objects.filter(pk=visitor.pk).exists()
    assert not Visitor.objects.filter(merged_into_id=visitor.pk).exists()
    assert not Visitor.objects.filter(traits__name="Mika").exists()
    assert not Event.objects.filter(visitor_id=visitor.pk).exists()
    assert not Assignment.objects.filter(visitor_id=visitor.pk).exists()
    assert not Exposure.objects.filter(visitor_id=visitor.pk).exists()
    assert DailyAggregate.objects.filter(experiment=experiment).count() == aggregates


def test_after_erasing_the_same_token_is_refused_and_nothing_is_filed_under_the_id(run_jobs):
    visitor = Visitor.objects.create(traits={"name": "Mika", "pet": "cat"})
    api = api_as(visitor.uuid)
    assert api.delete("/api/v1/visitor/").status_code == 204
    with run_jobs():
        answers = [
            api.get("/api/v1/visitor/"),
            api.patch("/api/v1/visitor/", {"name": "Mika"}, format="json"),
            api.post("/api/v1/events/", {"type": "goal", "name": "g"}, format="json"),
            api.patch("/api/v1/consent/", {"marketing": True}, format="json"),
            api.post("/api/v1/visitors/"),
        ]
    for response in answers:
        assert response.status_code == 401
        assert "erased" in response.json()["detail"]
    assert not Visitor.objects.filter(uuid=visitor.uuid).exists()
    assert not Consent.objects.filter(visitor_uuid=visitor.uuid).exists()
    fresh = APIClient().post("/api/v1/visitors/").json()
    assert fresh["visitor"] != str(visitor.uuid)
    assert api_as(uuid.UUID(fresh["visitor"])).get("/api/v1/visitor/").status_code == 200


def test_a_token_for_an_id_never_stored_is_refused_once_erased_too():
    api = api_as(uuid.uuid4())
    assert api.delete("/api/v1/visitor/").status_code == 204
    assert api.get("/api/v1/visitor/").status_code == 401


def test_erasing_by_cookie_gives_the_browser_a_new_visitor_id():
    visitor = Visitor.objects.create(traits={"name": "Mika"})
    browser = APIClient()
    browser.cookies["pv"] = signed_visitor_cookie(visitor.uuid)
    response = browser.delete("/api/v1/visitor/")
    assert response.status_code == 204
    assert str(visitor.uuid) not in response.cookies["pv"].value


def test_a_member_erases_their_visitor_data_but_keeps_their_account():
    member = MemberFactory()
    Visitor.objects.create(user=member, traits={"name": "Sora"})
    assert api_as(uuid.uuid4(), user=member).delete("/api/v1/visitor/").status_code == 204
    assert not Visitor.objects.filter(user=member).exists()
    member.refresh_from_db()
    assert member.is_active and member.profile.region == "tokyo"


def test_the_export_holds_everything_stored_about_the_visitor():
    visitor, experiment = visitor_with_history()
    response = api_as(visitor.uuid).get("/api/v1/visitor/export/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    export = response.json()
    assert export["visitor"]["uuid"] == str(visitor.uuid)
    assert export["visitor"]["traits"] == {"name": "Mika", "pet": "cat"}
    related = export["related"]
    assert [e["type"] for e in related["personalization.Event.visitor"]] == ["add_to_cart"]
    assert len(related["personalization.Visitor.merged_into"]) == 1
    assert related["experiments.Assignment.visitor"][0]["experiment_id"] == experiment.pk
    assert related["experiments.Exposure.visitor"]


def test_a_members_export_includes_their_account_and_profile():
    member = MemberFactory(first_name="Sora")
    Visitor.objects.create(user=member)
    export = api_as(uuid.uuid4(), user=member).get("/api/v1/visitor/export/").json()
    assert export["member"]["account"]["first_name"] == "Sora"
    assert "password" not in export["member"]["account"]
    assert export["member"]["profile"]["region"] == "tokyo"


def test_a_visitor_with_nothing_stored_exports_only_their_id():
    visitor_uuid = uuid.uuid4()
    export = api_as(visitor_uuid).get("/api/v1/visitor/export/").json()
    assert export == {
        "visitor": {"uuid": str(visitor_uuid)}, "member": None, "consent": [], "related": {},
    }  # fmt: skip


def test_the_export_includes_the_visitors_consent_choices():
    visitor = Visitor.objects.create()
    Consent.objects.create(visitor_uuid=visitor.uuid, marketing=True)
    export = api_as(visitor.uuid).get("/api/v1/visitor/export/").json()
    assert export["consent"][0]["marketing"] is True


def test_a_call_with_a_visitor_token_gets_no_visitor_cookie():
    """Apps and servers name the visitor by token; a cookie would be of no use to them and
    would name the token's visitor on a shared HTTP client."""
    response = api_as(uuid.uuid4()).get("/api/v1/visitor/")
    assert response.status_code == 200
    assert "pv" not in response.cookies
    browser = APIClient().get("/api/v1/visitor/")
    assert "pv" in browser.cookies
