"""For "explain a visitor": which variant of each personalized live page this visitor would see.

The pages come from the stored per-revision usage (`RevisionPersonalization` of each live
revision that consults a segment), not from walking every page; only those pages' blocks are
read, and each per-segment block chooses exactly as when it is served
(`PersonalizedBlock.matching_variant`). A segment that depends on the request (device, UTM…)
cannot be decided here: a block whose choice hangs on one says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import F
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from wagtail.models import Page

from cms.models import RevisionPersonalization
from cms.personalized_blocks import PersonalizedBlock
from experiments.usage import block_values, page_stream_values
from personalization.models import Segment
from personalization.resolver import Resolution, active_segments

SNIPPET_WORDS = 12


@dataclass(frozen=True)
class BlockChoice:
    """One per-segment block of a page and the variant the visitor would see."""

    number: int
    segment_id: int | None  # None: the default content
    segment_name: str
    snippet: str
    # segments listed before the chosen one that only a request can decide: (id, name)
    depends_on: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PageChoices:
    page: Page
    blocks: list[BlockChoice]


def _variants(raw: dict) -> list[dict]:
    """The variants of a raw per-segment block value as plain dicts."""
    found = []
    for item in raw.get("variants") or []:
        value = item.get("value", item) if isinstance(item, dict) else None
        if isinstance(value, dict):
            found.append(value)
    return found


def _snippet(stream: list) -> str:
    """The first words of a raw stream's first heading, paragraph or call to action."""
    for child in stream or []:
        value = child.get("value") if isinstance(child, dict) else None
        text = ""
        if child.get("type") == "heading" and isinstance(value, dict):
            text = value.get("text") or ""
        elif child.get("type") == "paragraph" and isinstance(value, str):
            text = strip_tags(value)
        elif isinstance(value, dict) and value.get("title"):
            text = value["title"]
        if text.strip():
            return Truncator(text.strip()).words(SNIPPET_WORDS)
    return ""


def _choose(
    number: int, raw: dict, matched: tuple[int, ...], unknown: tuple[int, ...], names: dict
) -> BlockChoice:
    variants = _variants(raw)
    resolution = Resolution(matched, {}, active_segments())
    variant = PersonalizedBlock.matching_variant({"variants": variants}, resolution)
    chosen = int(variant["segment"]) if variant is not None else None
    # a request-dependent segment listed before the chosen one could still win
    ranked = [int(v["segment"]) for v in variants if str(v.get("segment", "")).isdigit()]
    before = ranked[: ranked.index(chosen)] if chosen in ranked else ranked
    depends = [(sid, names.get(sid, "")) for sid in dict.fromkeys(before) if sid in unknown]
    content = variant["content"] if variant is not None else raw.get("default") or []
    name = names.get(chosen, _("Segment %(id)s (deleted)") % {"id": chosen}) if chosen else ""
    return BlockChoice(number, chosen, name, _snippet(content), depends)


def personalized_pages() -> list[Page]:
    """Live pages whose live revision consults at least one segment."""
    page_ids = (
        RevisionPersonalization.objects.filter(revision_id=F("page__live_revision_id"))
        .exclude(segment_ids=[])
        .values_list("page_id", flat=True)
    )
    return list(Page.objects.live().filter(pk__in=page_ids).specific().order_by("path"))


def page_choices(
    page: Page, matched: tuple[int, ...], unknown: tuple[int, ...], names: dict
) -> PageChoices | None:
    """Each per-segment block of a page with the visitor's variant."""
    found = []
    for stream_field, raw in page_stream_values(page):
        for block, value, _path in block_values(stream_field.stream_block, raw, stream_field.name):
            if isinstance(block, PersonalizedBlock) and isinstance(value, dict):
                found.append(_choose(len(found) + 1, value, matched, unknown, names))
    return PageChoices(page, found) if found else None


def explain_pages(matched: tuple[int, ...], unknown: tuple[int, ...]) -> dict:
    """The `explain_visitor_sections` hook's section: the pages and their chosen variants
    (`matched`: the visitor's segments in priority order; `unknown`: those that depend on a
    request)."""
    names = dict(Segment.objects.values_list("pk", "name"))
    pages = [
        choices
        for page in personalized_pages()
        if (choices := page_choices(page, matched, unknown, names)) is not None
    ]
    return {
        "heading": _("What this visitor sees on personalized pages"),
        "template": "cms/admin/explain_pages.html",
        "context": {"pages": pages},
    }
