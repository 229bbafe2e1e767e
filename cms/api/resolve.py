"""A page body as JSON, resolved for one visitor: the same choices the HTML site makes.

Every block whose class has `chosen_content(value, request) -> (content or None, meta)` (per-
segment content, offers, A/B tests) is asked once, exactly as its template asks; its chosen
content is serialized in its place (or its own value when it returns None) and its meta is
collected for the response's `meta`. Images become rendition URLs with alt text, rich text is
expanded to HTML with internal links resolved, and page links become URLs.

Built for the render cache (`BodyResolution.recording`), the parts that belong to one visitor —
the greeting, the profile form's state, offers and notification slots — are left as markers
with visitor-independent payloads (`cms.api.holes`), filled per request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from wagtail import blocks
from wagtail.blocks import StreamValue
from wagtail.images.blocks import ImageChooserBlock
from wagtail.images.models import SourceImageIOError
from wagtail.rich_text import RichText, expand_db_html

from cms.api.holes import (
    CHOOSING_HOLES,
    JsonRecording,
    choice_payload,
    greeting_payload,
    marker,
)
from cms.blocks import ImageBlock, LinkTargetBlock
from cms.personalized_blocks import GreetingBlock, OfferBlock, ProfileFormBlock
from cms.product_blocks import API_IMAGE_JSON
from personalization.choices import PetType
from personalization.resolver import resolve

logger = logging.getLogger(__name__)

IMAGE_FILTERS = ("width-480", "width-960", "width-1440")
# Parts of a block's own value that are settings, not content (shown only when chosen).
HIDDEN_FIELDS = {OfferBlock: ("fallback", "cap", "cap_period")}
NAME_MAX_LENGTH = 60


@dataclass
class BodyResolution:
    """What resolving a body decided, for the response's `meta`."""

    request: HttpRequest
    blocks: list[dict] = field(default_factory=list)
    experiments: list[dict] = field(default_factory=list)
    segment_ids: set[int] = field(default_factory=set)
    personalized: bool = False
    recording: JsonRecording | None = None  # building for the render cache: holes, not choices

    def note(self, block, value, meta: dict, *, block_id: str | None) -> None:
        """Record one visitor-dependent choice."""
        self.personalized = True
        self.blocks.append({"id": block_id, "type": block.name, **meta})
        if callable(getattr(block, "segment_ids", None)):
            self.segment_ids |= block.segment_ids(value)
        if "experiment" in meta and "variant" in meta:
            self.experiments.append(meta)


def image_json(image, request: HttpRequest, *, alt: str | None = None) -> dict | None:
    """An image as rendition URLs (three widths) with its alt text; None without an image."""
    if image is None:
        return None
    try:
        renditions = image.get_renditions(*IMAGE_FILTERS)
    except (SourceImageIOError, OSError) as exc:
        logger.warning(
            "Image %s has no readable file, served without renditions: %s", image.pk, exc
        )
        renditions = {}
    return {
        "id": image.pk,
        "title": image.title,
        "alt": image.default_alt_text if alt is None else alt,
        "width": image.width,
        "height": image.height,
        "renditions": [
            {
                "filter": spec,
                "url": request.build_absolute_uri(rendition.url),
                "width": rendition.width,
                "height": rendition.height,
            }
            for spec, rendition in renditions.items()
        ],
    }


API_IMAGE_JSON[:] = [image_json]  # product cards' pictures (`cms.product_blocks`)


def page_link_json(page, request: HttpRequest) -> dict | None:
    """A link to a page: its id, title and URL on the site."""
    if page is None:
        return None
    return {"id": page.pk, "title": page.title, "url": page.get_url(request=request)}


def link_target_json(value, request: HttpRequest) -> dict:
    """A button target: the page's URL, else the external URL."""
    page = value.get("page")
    return {
        "url": page.get_url(request=request) if page is not None else value.get("url") or "",
        "page": page_link_json(page, request),
    }


def greeting_json(block: GreetingBlock, value, state: BodyResolution) -> dict:
    """The greeting this visitor sees (their declared or member name and pet picture)."""
    state.personalized = True
    if state.recording is not None:
        payload = greeting_payload(value, lambda image: image_json(image, state.request, alt=""))
        return state.recording.marker(block.hole_kind, payload)
    greeting = block.choose(value, resolve(state.request))
    return {**greeting, "image": image_json(greeting["image"], state.request, alt="")}


def profile_form_json(value, state: BodyResolution) -> dict:
    """The two-question form as a description a frontend can render and PATCH /visitor/ with."""
    state.personalized = True
    if state.recording is not None:
        form = profile_form_fields(value, answered=False)
        return state.recording.marker(ProfileFormBlock.hole_kind, form)
    traits = resolve(state.request).attributes.get("traits") or {}
    return profile_form_fields(value, answered=bool(traits.get("name") and traits.get("pet")))


def profile_form_fields(value, *, answered: bool) -> dict:
    return {
        "heading": value["heading"],
        "text": value["text"],
        "button_label": value["button_label"],
        "answered": answered,
        "submit": {"method": "PATCH", "url": "/api/v1/visitor/"},
        "fields": [
            {"name": "name", "type": "text", "required": True, "max_length": NAME_MAX_LENGTH},
            {
                "name": "pet",
                "type": "choice",
                "required": True,
                "choices": [{"value": v, "label": str(label)} for v, label in PetType.choices],
            },
        ],
    }


def struct_json(block: blocks.StructBlock, value, state: BodyResolution) -> dict:
    """A struct's fields, each serialized by its own block (settings-only fields left out)."""
    hidden = next((h for cls, h in HIDDEN_FIELDS.items() if isinstance(block, cls)), ())
    return {
        name: block_json(child, value.get(name), state)
        for name, child in block.child_blocks.items()
        if name not in hidden
    }


def block_json(block, value, state: BodyResolution) -> Any:
    """One block's value as JSON."""
    request = state.request
    own_json = getattr(block, "api_json", None)
    if callable(own_json):  # a block that describes itself (product lists)
        return own_json(value, state)
    if is_hole(block, state):
        return choice_hole(block, value, state, head={}, block_id=None)
    if chooses(block):  # not a stream child (those carry `chosen` beside `value`)
        meta, chosen = chosen_value(block, value, state, block_id=None)
        return {"chosen": meta, "value": chosen}
    if isinstance(block, GreetingBlock):
        return greeting_json(block, value, state)
    if isinstance(block, ProfileFormBlock):
        return profile_form_json(value, state)
    if isinstance(block, ImageBlock):
        alt = value.get("alt_text") or None
        return {"image": image_json(value["image"], request, alt=alt), "caption": value["caption"]}
    if isinstance(block, LinkTargetBlock):
        return link_target_json(value, request)
    if isinstance(block, blocks.StructBlock):
        return struct_json(block, value, state)
    if isinstance(block, blocks.StreamBlock):
        return stream_json(value, state)
    if isinstance(block, blocks.ListBlock):
        return [block_json(block.child_block, item, state) for item in value or []]
    if isinstance(block, blocks.RichTextBlock):
        return expand_db_html(value.source if isinstance(value, RichText) else str(value or ""))
    if isinstance(block, ImageChooserBlock):
        return image_json(value, request)
    if isinstance(block, blocks.PageChooserBlock):
        return page_link_json(value, request)
    return block.get_api_representation(value, context={"request": request})


def chooses(block) -> bool:
    """Whether a block picks its content per visitor (`chosen_content(value, request)`)."""
    return callable(getattr(block, "chosen_content", None))


def is_hole(block, state: BodyResolution) -> bool:
    """Whether, building for the cache, a block's choice is left for each request (`holes`)."""
    return state.recording is not None and getattr(block, "hole_kind", None) in CHOOSING_HOLES


def choice_hole(block, value, state: BodyResolution, *, head: dict, block_id: str | None) -> dict:
    """A choosing block built for the cache: a marker here and in `meta.blocks`, and both faces
    (its fields, its fallback) in the hole, so that no choice is made for anyone yet."""
    state.personalized = True
    payload = choice_payload(
        value,
        head=head,
        entry={"id": block_id, "type": block.name},
        own=struct_json(block, value, state),
        fallback=content_json(value["fallback"], state),
    )
    index = state.recording.hole(block.hole_kind, payload)
    state.blocks.append(marker(index, "meta"))
    return marker(index, "child")


def chosen_value(block, value, state: BodyResolution, *, block_id: str | None) -> tuple[dict, Any]:
    """(meta, JSON of what the block chose for this visitor), asking the block once: its chosen
    content, or its own value (settings left out) when it answers None."""
    content, meta = block.chosen_content(value, state.request)
    state.note(block, value, meta, block_id=block_id)
    if content is not None:
        return meta, content_json(content, state)
    if isinstance(block, blocks.StructBlock):
        return meta, struct_json(block, value, state)
    return meta, block.get_api_representation(value, context={"request": state.request})


def content_json(content, state: BodyResolution) -> list[dict]:
    """Chosen content: a stream (or a plain list of stream children)."""
    if isinstance(content, StreamValue):
        return stream_json(content, state)
    children = content if isinstance(content, list) else []
    return [child_json(c, state) for c in children if isinstance(c, StreamValue.StreamChild)]


def child_json(child, state: BodyResolution) -> dict:
    """One block of a stream: {type, id, value} (plus `chosen` for visitor-dependent blocks)."""
    if is_hole(child.block, state):
        head = {"type": child.block_type, "id": child.id}
        return choice_hole(child.block, child.value, state, head=head, block_id=child.id)
    if chooses(child.block):
        meta, value = chosen_value(child.block, child.value, state, block_id=child.id)
        return {"type": child.block_type, "id": child.id, "chosen": meta, "value": value}
    return {
        "type": child.block_type,
        "id": child.id,
        "value": block_json(child.block, child.value, state),
    }


def stream_json(stream, state: BodyResolution) -> list[dict]:
    """A StreamField value, resolved block by block in order."""
    if stream is None:
        return []
    return [child_json(child, state) for child in stream]
