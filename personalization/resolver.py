"""Which segments the visitor of this request belongs to, at a cost that does not grow with the
number of segments in SQL: all enabled segments are compiled once per process into Python
closures and re-compiled only when the shared version token changes (any segment or saved group
saved or deleted, in any process).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from config import version_tokens
from personalization.conditions import ConditionError, compile_condition, validate_condition

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompiledSegment:
    """What the resolver needs of a segment: identity, priority and its compiled test."""

    id: int
    slug: str
    name: str
    priority: int
    test: Callable[[dict], bool] = field(compare=False, repr=False)
    condition: dict | None = field(default=None, compare=False, repr=False)


ALL, ANY, NONE = 0, 1, 2
_COMBINATORS = {"$and": ALL, "$or": ANY, "$nor": NONE}


@dataclass(frozen=True)
class SegmentSet:
    """The compiled segments of one version, with their rules shared between segments.

    Segments built from rule rows are `{"$and" | "$or" | "$nor": [clause, ...]}`; the same
    clause ("region is tokyo", "device is mobile") recurs across many segments, so each distinct
    clause is compiled once and evaluated at most once per request (`plans` refer to it by index).
    """

    version: str
    segments: tuple[CompiledSegment, ...]
    by_id: dict[int, CompiledSegment]
    clauses: tuple[Callable[[dict], bool], ...] = ()
    plans: tuple[tuple[int, int, tuple[int, ...]], ...] = ()

    @classmethod
    def build(
        cls, version: str, segments: tuple[CompiledSegment, ...], groups: dict | None = None
    ) -> SegmentSet:
        """Share identical clauses between segments (see the class docstring)."""
        index: dict[str, int] = {}
        clauses: list[Callable[[dict], bool]] = []

        def clause_id(clause: dict) -> int:
            key = json.dumps(clause, sort_keys=True, default=str)
            if key not in index:
                index[key] = len(clauses)
                clauses.append(compile_condition(clause, groups))
            return index[key]

        plans = []
        for segment in segments:
            combinator, parts = _split_top_level(segment.condition)
            if combinator is None:
                plans.append((segment.id, ALL, (clause_id(segment.condition or {}),)))
            else:
                plans.append((segment.id, combinator, tuple(clause_id(p) for p in parts)))
        return cls(version, segments, {s.id: s for s in segments}, tuple(clauses), tuple(plans))


def _split_top_level(condition: dict | None) -> tuple[int | None, list[dict]]:
    """(combinator, clauses) for a `{"$and"|"$or"|"$nor": [dicts]}` condition, else (None, [])."""
    if not isinstance(condition, dict) or len(condition) != 1:
        return None, []
    ((key, value),) = condition.items()
    if key not in _COMBINATORS or not isinstance(value, list) or not value:
        return None, []
    if not all(isinstance(part, dict) for part in value):
        return None, []
    return _COMBINATORS[key], value


def _stored_version() -> str:
    """The segment set's token as stored in the database (when the cache has none)."""
    from personalization.models import SegmentSetVersion

    row = SegmentSetVersion.objects.filter(pk=1).values_list("token", flat=True).first()
    return row or "initial"


# The current version token (cache first, then the database; once per request).
segment_set_version = version_tokens.VersionToken(
    "personalization:segment-set-version", _stored_version
)
VERSION_CACHE_KEY = segment_set_version.key


def bump_segment_set_version() -> str:
    """Mark every process's compiled segments stale (called when segments or groups change)."""
    from personalization.models import SegmentSetVersion

    token = uuid.uuid4().hex
    SegmentSetVersion.objects.update_or_create(pk=1, defaults={"token": token})
    return segment_set_version.set(token)


def _compile_one(segment, groups: dict[str, list]) -> CompiledSegment | None:
    try:
        validate_condition(segment.condition)
        test = compile_condition(segment.condition, groups)
    except ConditionError as exc:
        logger.error(
            "Segment %s (%s) has a broken condition, skipped: %s", segment.pk, segment.slug, exc
        )
        return None
    return CompiledSegment(
        segment.pk, segment.slug, segment.name, segment.priority, test, segment.condition
    )


def _build(version: str) -> SegmentSet:
    from personalization.models import SavedGroup, Segment

    groups = dict(SavedGroup.objects.values_list("key", "values"))
    rows = (
        Segment.objects.filter(enabled=True)
        .only("id", "slug", "name", "priority", "condition")
        .order_by("-priority", "id")
    )
    compiled = tuple(c for c in (_compile_one(s, groups) for s in rows) if c is not None)
    return SegmentSet.build(version, compiled, groups)


_segments = version_tokens.PerProcess(segment_set_version, _build)


def active_segments() -> SegmentSet:
    """The compiled enabled segments, in priority order (highest first, then oldest)."""
    return _segments.get()


def matching_segments(attributes: dict[str, Any], segment_set: SegmentSet) -> tuple[int, ...]:
    """Ids of the segments whose condition the attributes satisfy, in priority order.

    Each shared clause is evaluated at most once (compiled clauses never raise)."""
    clauses = segment_set.clauses
    results: list[bool | None] = [None] * len(clauses)
    matched = []
    for segment_id, combinator, parts in segment_set.plans:
        if combinator == ALL:
            for part in parts:
                value = results[part]
                if value is None:
                    value = results[part] = clauses[part](attributes)
                if not value:
                    break
            else:
                matched.append(segment_id)
            continue
        found = False  # $or / $nor: does any clause hold?
        for part in parts:
            value = results[part]
            if value is None:
                value = results[part] = clauses[part](attributes)
            if value:
                found = True
                break
        if found == (combinator == ANY):
            matched.append(segment_id)
    return tuple(matched)


@dataclass(frozen=True)
class Resolution:
    """The outcome for one request: matched segment ids (priority order) and the context."""

    segment_ids: tuple[int, ...]
    attributes: dict[str, Any]
    segment_set: SegmentSet
    preview: bool = False

    @property
    def segments(self) -> list[CompiledSegment]:
        return [self.segment_set.by_id[i] for i in self.segment_ids if i in self.segment_set.by_id]

    def matches(self, segment_id: int) -> bool:
        return segment_id in self.segment_ids

    def key_for(self, segment_ids: set[int] | frozenset[int]) -> tuple[int, ...]:
        """The part of the resolution a page that uses `segment_ids` depends on (for caching)."""
        return tuple(i for i in self.segment_ids if i in segment_ids)


def resolve(request) -> Resolution:
    """Resolve this request's segments once; later calls return the memoized result."""
    cached = getattr(request, "_personalization_resolution", None)
    if cached is not None:
        return cached
    segment_set = active_segments()
    forced = getattr(request, "personalization_preview_segments", None)
    if forced is None and not _personalization_allowed(request):
        # Default content, and nothing about the visitor is read (not even their row).
        resolution = Resolution((), {}, segment_set)
    else:
        attributes = _attributes(request)
        if forced is not None:
            wanted = set(forced)
            ids = tuple(s.id for s in segment_set.segments if s.id in wanted)
            resolution = Resolution(ids, attributes, segment_set, preview=True)
        else:
            matched = matching_segments(attributes, segment_set)
            resolution = Resolution(matched, attributes, segment_set)
    request._personalization_resolution = resolution
    return resolution


def _attributes(request) -> dict:
    """The attribute context of this request's visitor (and member, with their profile)."""
    from personalization.context import build_context

    visitor = getattr(request, "visitor", None)
    user = getattr(request, "user", None)
    user = user if _is_member(user) else None
    if user is not None and visitor is not None and visitor.pk and visitor.user_id == user.pk:
        user = visitor.user  # loaded with its profile in the visitor's own query
    return build_context(request, visitor, user)


def _is_member(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _personalization_allowed(request) -> bool:
    """Visitors who withheld personalization consent see default content (hook for consent)."""
    return getattr(request, "personalization_consent", True)
