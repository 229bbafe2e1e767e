"""A visitor row holding absurd values (as an old row written before the events API bounded its
numbers could: a 400-digit quantity, prices of 1e308, counters no float holds, junk where an
object belongs) breaks nothing: the visitor's pages, `GET /api/v1/visitor/`, the admin's
"Explain" page and the segment-sizes job all work, and new events fold into the row with every
number clamped to its bounds."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from personalization.events.models import EventType
from personalization.events.properties import MAX_AMOUNT, MAX_COUNT, MAX_QUANTITY
from personalization.events.services import event_payload, events_ingest
from personalization.jobs import snapshot_segment_sizes
from personalization.models import Segment, Visitor
from tests.api.helpers import api_as
from tests.personalization.helpers import browse_as

pytestmark = pytest.mark.django_db

HUGE = "9" * 400  # an integer no float can hold
ABSURD = {
    "cart": (
        '{"items": {"litter": {"quantity": HUGE, "price": 1e308},'
        ' "food": {"quantity": 1e9, "price": 1e308, "category": "food"},'
        ' "odd": "junk", "odder": {"quantity": "two", "price": [1]}},'
        ' "updated_at": "2026-01-01T00:00:00+00:00"}'
    ).replace("HUGE", HUGE),
    "section_views": '{"dogs": 1e400, "cats": HUGE, "birds": "many"}'.replace("HUGE", HUGE),
    "tag_views": '["not", "an", "object"]',
    "categories_bought": '{"litter": 5, "food": "2026-01-01"}',
    "offer_impressions": '{"winter-sale": {"day": 3, "day_count": 1e400, "week_count": "x"}}',
    "traits": '{"name": 1e400, "pet": "dog"}',
}


def not_json_number(text: str):
    raise ValueError(f"not JSON: {text}")


@pytest.fixture
def absurd_visitor() -> Visitor:
    """A visitor whose stored rollups no check would let in today, written as raw SQL."""
    visitor = Visitor.objects.create(last_seen_at=timezone.now())
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    columns = ", ".join(f"{name} = %s{cast}" for name in ABSURD)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE personalization_visitor SET {columns}, total_spend = %s, purchase_count = %s,"
            " last_purchase_at = %s WHERE id = %s",
            [
                *ABSURD.values(),
                "999999999999.99",
                2**31 - 1,
                "9999-12-31 23:00:00+00:00",
                visitor.pk,
            ],
        )
    return visitor


def test_the_visitors_site_pages_are_served(client, absurd_visitor):
    browse_as(client, absurd_visitor)
    for path in ("/", "/dogs/", "/account/login/"):
        assert client.get(path).status_code == 200, path


def test_the_visitor_api_answers_valid_json_with_clamped_numbers(absurd_visitor):
    api = api_as(absurd_visitor.uuid)
    response = api.get("/api/v1/visitor/")
    assert response.status_code == 200
    body = json.loads(response.content, parse_constant=not_json_number)
    profile = body["profile"]
    assert profile["cart"]["count"] == 2 * MAX_QUANTITY + 1  # "two" counts as one
    assert profile["cart"]["value"] == 2 * MAX_QUANTITY * MAX_AMOUNT
    assert profile["views"]["section"] == {"dogs": MAX_COUNT, "cats": MAX_COUNT, "birds": 0}
    assert profile["views"]["tag"] == {}
    assert profile["purchases"]["categories"] == ["food", "litter"]
    assert body["traits"] == {"pet": "dog"}
    page = api.get("/api/v1/pages/find/", {"path": "/"})
    assert page.status_code == 200
    json.loads(page.content, parse_constant=not_json_number)


def test_the_admin_explains_the_visitor(client, absurd_visitor):
    client.force_login(get_user_model().objects.get(username="admin"))
    response = client.get("/admin/personalization/explain/", {"q": str(absurd_visitor.uuid)})
    assert response.status_code == 200
    assert "Infinity" not in response.content.decode()


def test_the_segment_sizes_job_counts_every_segment(absurd_visitor):
    enabled = Segment.objects.filter(enabled=True)
    assert snapshot_segment_sizes() == enabled.count()
    assert not enabled.filter(size_computed_at__isnull=True).exists()


def test_new_events_fold_into_the_row_within_bounds(absurd_visitor):
    def event(kind: str, name: str = "", **properties) -> dict:
        return event_payload(
            visitor_uuid=absurd_visitor.uuid,
            type=kind,
            name=name,
            section="dogs",
            properties=properties,
            idempotency_key=uuid.uuid4().hex,
        )

    stored = events_ingest(
        payloads=[
            event(EventType.PAGE_VIEW),
            event(EventType.ADD_TO_CART, sku="litter", quantity=MAX_QUANTITY, price=MAX_AMOUNT),
            event(EventType.OFFER_IMPRESSION, name="winter-sale"),
        ]
    )
    assert stored == 3
    visitor = Visitor.objects.get(pk=absurd_visitor.pk)
    assert visitor.section_views["dogs"] == MAX_COUNT
    assert visitor.cart["items"]["litter"]["quantity"] == MAX_QUANTITY
    assert visitor.page_view_count == 1
    shop = event(EventType.PURCHASE, amount=MAX_AMOUNT, categories=["food"])
    assert events_ingest(payloads=[shop]) == 1
    visitor.refresh_from_db()
    assert str(visitor.total_spend) == "999999999999.99"  # the most the column holds
    assert visitor.purchase_count == 2**31 - 1
    assert visitor.categories_bought["food"] == timezone.localdate().isoformat()
