"""The body resolver on its own: any block with `chosen_content` is asked once, wherever it sits,
and its choice is recorded for the response's meta."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from wagtail import blocks

from cms.api.resolve import BodyResolution, block_json, stream_json
from cms.personalized_blocks import BodyStreamBlock, PersonalizedBlock
from personalization.models import Segment, Visitor

pytestmark = pytest.mark.django_db


def visitor_request(**traits):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.visitor = Visitor(traits=traits)
    request.visitor_uuid = request.visitor.uuid
    return request


def personalized_raw(segment: Segment) -> dict:
    """A per-segment block as stored: dog people get their text, everyone else the default."""
    return {
        "variants": [
            {
                "segment": str(segment.pk),
                "content": [{"type": "paragraph", "value": "<p>For dogs</p>"}],
            }
        ],
        "default": [{"type": "paragraph", "value": "<p>For everyone</p>"}],
    }


def test_a_choosing_block_inside_a_struct_is_resolved_too():
    dog_people = Segment.objects.get(slug="dog-people")
    holder = blocks.StructBlock([("message", PersonalizedBlock())])
    holder.set_name("holder")
    value = holder.to_python({"message": personalized_raw(dog_people)})
    state = BodyResolution(visitor_request(pet="dog"))
    resolved = block_json(holder, value, state)
    assert resolved == {
        "message": {
            "chosen": {"segment": dog_people.pk},
            "value": [{"type": "paragraph", "id": None, "value": "<p>For dogs</p>"}],
        }
    }
    assert state.segment_ids == {dog_people.pk} and state.personalized


def test_a_stream_records_each_choice_in_order_for_meta():
    dog_people = Segment.objects.get(slug="dog-people")
    stream_block = BodyStreamBlock()
    stream = stream_block.to_python(
        [
            {"type": "heading", "value": {"text": "Hello", "level": "h2"}, "id": "a"},
            {"type": "personalized", "value": personalized_raw(dog_people), "id": "b"},
        ]
    )
    state = BodyResolution(visitor_request())
    body = stream_json(stream, state)
    assert [block["type"] for block in body] == ["heading", "personalized"]
    assert body[1]["chosen"] == {"segment": None}
    assert body[1]["value"][0]["value"] == "<p>For everyone</p>"
    assert state.blocks == [{"id": "b", "type": "personalized", "segment": None}]
