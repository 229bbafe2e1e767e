"""JSON nested deeper than Python's decoder (or our checks) can follow is a 400, not a 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [50, 300, 500, 900, 990, 2000, 100_000])
def test_deeply_nested_event_properties_are_accepted_or_refused_never_a_500(depth):
    body = '[{"type": "page_view", "properties": {"a": ' + nested(depth) + "}}]"
    response = APIClient().post("/api/v1/events/", body, content_type="application/json")
    if depth <= 50:
        assert response.status_code == 202
    else:
        assert response.status_code in (202, 400), response.content[:300]
    if depth >= 2000:
        assert response.status_code == 400
        assert "nested too deeply" in response.json()["detail"].lower() or any(
            "deeply" in row["message"].lower() for row in response.json()["errors"]
        )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/events/"),
        ("patch", "/api/v1/visitor/"),
        ("patch", "/api/v1/consent/"),
    ],
)
def test_a_body_nested_too_deeply_is_a_400_on_every_endpoint_that_reads_json(method, path):
    response = getattr(APIClient(), method)(path, nested(100_000), content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in str(response.content).lower()
