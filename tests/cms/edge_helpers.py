"""The page the edge tests share (tests/cms/test_render_cache_edge.py, tests/e2e/)."""

from __future__ import annotations

import uuid

from cms.models import ContentPage
from personalization.models import Segment
from tests.experiments.variant_helpers import publish_body


def _block(kind: str, value) -> dict:
    return {"type": kind, "id": str(uuid.uuid4()), "value": value}


def publish_edge_page() -> ContentPage:
    """A page with every kind of hole and a per-segment variant (dog people or not), and no
    experiment (each arm would be a key of its own)."""
    page = ContentPage.objects.get(slug="choosing-dog-food")
    dogs = Segment.objects.get(slug="dog-people")
    body = [
        _block("greeting", {"greeting": "Welcome back, {name}!", "anonymous_greeting": "Hello"}),
        _block(
            "personalized",
            {
                "variants": [
                    {
                        "segment": str(dogs.pk),
                        "content": [_block("paragraph", "<p>DOG-VARIANT</p>")],
                    }
                ],
                "default": [_block("paragraph", "<p>DEFAULT-VARIANT</p>")],
            },
        ),
        _block("profile_form", {"heading": "Tell us", "text": "", "button_label": "Go"}),
        _block(
            "offer",
            {
                "offer_key": "edge-offer",
                "title": "OFFER-SHOWN",
                "text": "",
                "button_label": "Shop",
                "link": {"page": None, "url": "/offer/"},
                "cap": 2,
                "cap_period": "day",
                "fallback": [_block("paragraph", "<p>OFFER-FALLBACK</p>")],
            },
        ),
    ]
    publish_body(page, body)
    return ContentPage.objects.get(pk=page.pk)
