"""Holes in the API's page documents: the parts of the JSON that belong to one visitor.

The JSON twin of `cms.holes` (the site's HTML). While a document is built for the render cache
(`cms.api.render_cache`), each per-visitor part is left as a *marker* — ``{"$hole": n, "part":
name}`` — and a hole (kind, payload) whose payload holds nothing about the visitor: the block's
settings and its visitor-independent JSON (the greeting's texts and pictures, the profile form
unanswered, both faces of an offer or a notification slot). After a cache hit, and after the
miss that filled the cache (so both take one path), `fill` replaces each marker by its part of
the hole filled for the request. A hole is filled once per request however many parts show it:
an offer's impression is counted once, a journey message taken once.

Kinds (the site's names):

- ``greeting``: the greeting's text, name, pet and picture;
- ``profile_form``: whether the visitor has ``answered`` it;
- ``offer`` and ``notification``, blocks that choose per visitor (`chosen_content`): the stream
  child (``chosen`` and ``value``: the offer or its fallback, the message or the fallback) and
  the block's entry in the document's ``meta.blocks`` — the same block's own `chosen_content`
  decides, counting the impression or taking the message;
- ``recommendations`` (`cms.api.recommendations`): the block's value (its settings and the
  visitor's products) and its `meta.blocks` entry, the products picked when it is filled.

Image URLs are rendered with the document: they depend on the address asked, not on the visitor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cms.notification_blocks import NotificationBlock
from cms.personalized_blocks import GreetingBlock, OfferBlock, ProfileFormBlock
from personalization.resolver import resolve

MARKER = "$hole"

JsonFiller = Callable[[Any, Any], dict[str, Any]]
JSON_FILLERS: dict[str, JsonFiller] = {}


@dataclass
class JsonRecording:
    """The holes a document built for the cache left behind (index = the markers' number)."""

    holes: list[tuple[str, Any]] = field(default_factory=list)

    def hole(self, kind: str, payload: Any) -> int:
        self.holes.append((kind, payload))
        return len(self.holes) - 1

    def marker(self, kind: str, payload: Any, part: str = "value") -> dict:
        """A new hole, shown here by its part `part`."""
        return marker(self.hole(kind, payload), part)


def marker(index: int, part: str = "value") -> dict:
    return {MARKER: index, "part": part}


def _is_marker(node: dict) -> bool:
    return len(node) == 2 and isinstance(node.get(MARKER), int) and "part" in node


def filler(kind: str) -> Callable[[JsonFiller], JsonFiller]:
    def register(function: JsonFiller) -> JsonFiller:
        JSON_FILLERS[kind] = function
        return function

    return register


def fill(document: Any, holes: list[tuple[str, Any]], request) -> Any:
    """`document` with every marker replaced by its part of the hole filled for `request` (a
    new structure; a marker naming no hole becomes null)."""
    filled: dict[int, dict[str, Any]] = {}

    def part(index: int, name: str) -> Any:
        if index >= len(holes):
            return None
        if index not in filled:
            kind, payload = holes[index]
            function = JSON_FILLERS.get(kind)
            filled[index] = function(payload, request) if function is not None else {}
        return filled[index].get(name)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if _is_marker(node):
                return part(node[MARKER], node["part"])
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    return walk(document)


# PAYLOADS (BUILT WITH THE DOCUMENT) AND FILLERS (PER REQUEST)
# ------------------------------------------------------------------------------


def greeting_payload(value, image_json: Callable[[Any], dict | None]) -> dict:
    """The greeting's settings with its three pictures as JSON: `GreetingBlock.greeting_for`
    picks from them as it picks from the block's value."""
    return {
        "greeting": value["greeting"],
        "anonymous_greeting": value["anonymous_greeting"],
        **{name: image_json(value.get(name)) for name in ("dog_image", "cat_image", "other_image")},
    }


@filler(GreetingBlock.hole_kind)
def _fill_greeting(payload: dict, request) -> dict:
    return {"value": GreetingBlock.greeting_for(payload, resolve(request))}


@filler(ProfileFormBlock.hole_kind)
def _fill_profile_form(form: dict, request) -> dict:
    return {"value": {**form, "answered": ProfileFormBlock.answered(request)}}


# Blocks that choose per visitor and are holes: their own `chosen_content` decides when filled.
CHOOSING_HOLES = {
    OfferBlock.hole_kind: OfferBlock(),
    NotificationBlock.hole_kind: NotificationBlock(),
}
_FALLBACK = object()


def choice_payload(value, *, head: dict, entry: dict, own: Any, fallback: Any) -> dict:
    """A choosing block's hole: its settings (the plain values of its fields), where it stands
    (`head`: the stream child's type and id; `entry`: its meta entry's id and type) and the
    JSON of both faces — its own fields (`own`) and its fallback."""
    settings = {
        name: item
        for name, item in value.items()
        if item is None or isinstance(item, (str, int, float, bool))
    }
    return {"settings": settings, "head": head, "entry": entry, "own": own, "fallback": fallback}


def _fill_choice(kind: str) -> JsonFiller:
    def fill_one(payload: dict, request) -> dict:
        block = CHOOSING_HOLES[kind]
        value = {**payload["settings"], "fallback": _FALLBACK}
        content, meta = block.chosen_content(value, request)
        face = payload["fallback"] if content is _FALLBACK else payload["own"]
        return {
            "child": {**payload["head"], "chosen": meta, "value": face},
            "meta": {**payload["entry"], **meta},
        }

    return fill_one


for _kind in CHOOSING_HOLES:
    filler(_kind)(_fill_choice(_kind))
