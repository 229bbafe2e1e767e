"""What a page revision's content depends on, found once when the revision is saved.

The walk uses the same block traversal as the experiments' usage record (`experiments.usage`):
per-segment blocks name the segments they consult, A/B blocks the experiment they test,
per-visitor blocks are holes, and blocks that show the shop's products (`depends_on_catalogue`)
make the page follow the catalogue's version. Stored as `cms.models.RevisionPersonalization`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from wagtail.models import Page, Revision

from cms.models import RevisionPersonalization
from config.jobs import enqueue
from experiments.usage import block_values, page_stream_values


@dataclass(frozen=True)
class Usage:
    """The segments (in the order blocks consult them), the experiments of its A/B blocks and
    the hole kinds of a page revision, and whether it shows the catalogue's products. (A
    page-level experiment belongs to the page, not to a revision, and may start any time: the
    key asks the running experiments for it.)"""

    segment_ids: tuple[int, ...] = ()
    experiment_keys: tuple[str, ...] = ()
    holes: tuple[str, ...] = ()
    catalogue: bool = False

    @classmethod
    def of(cls, row: RevisionPersonalization) -> Usage:
        return cls(
            tuple(row.segment_ids), tuple(row.experiment_keys), tuple(row.holes), row.catalogue
        )


def _segments_of(raw) -> list[int]:
    """The segment ids a per-segment block's raw value consults, in its variants' order."""
    found = []
    for item in raw.get("variants") or [] if isinstance(raw, dict) else []:
        value = item.get("value", item) if isinstance(item, dict) else {}
        segment = str(value.get("segment") or "") if isinstance(value, dict) else ""
        if segment.isdigit():
            found.append(int(segment))
    return found


def page_usage(page: Page) -> Usage:
    """Walk a (specific) page's StreamFields once: segments, experiments, holes, catalogue."""
    from cms.personalized_blocks import PersonalizedBlock

    segments: dict[int, None] = {}
    experiments: dict[str, None] = {}
    holes: dict[str, None] = {}
    catalogue = False
    for stream_field, raw in page_stream_values(page):
        for block, value, _path in block_values(stream_field.stream_block, raw, stream_field.name):
            if isinstance(block, PersonalizedBlock):
                segments.update(dict.fromkeys(_segments_of(value)))
            usage = getattr(block, "experiment_usage", None)
            answer = usage(value) if callable(usage) else None
            if answer is not None:
                experiments[answer[0]] = None
            hole = getattr(block, "hole_kind", None)
            if hole:
                holes[hole] = None
            catalogue = catalogue or getattr(block, "depends_on_catalogue", False)
    return Usage(tuple(segments), tuple(experiments), tuple(holes), catalogue)


def segment_blocks(page: Page) -> tuple[tuple[int, ...], ...]:
    """The segments of each per-segment block of a page, block by block (the stored usage
    keeps only their union): what the page can show is bounded by the blocks (`stats`)."""
    from cms.personalized_blocks import PersonalizedBlock

    return tuple(
        tuple(dict.fromkeys(_segments_of(value)))
        for stream_field, raw in page_stream_values(page)
        for block, value, _path in block_values(stream_field.stream_block, raw, stream_field.name)
        if isinstance(block, PersonalizedBlock)
    )


def _is_page_revision(revision: Revision) -> bool:
    return revision.base_content_type_id == ContentType.objects.get_for_model(Page).pk


def usage_record(*, revision: Revision) -> RevisionPersonalization | None:
    """Record (again) what a page revision depends on: idempotent."""
    if not _is_page_revision(revision):
        return None
    page = revision.as_object()
    usage = page_usage(page)
    row, _ = RevisionPersonalization.objects.update_or_create(
        revision=revision,
        defaults={
            "page_id": page.pk,
            "segment_ids": list(usage.segment_ids),
            "experiment_keys": list(usage.experiment_keys),
            "holes": list(usage.holes),
            "catalogue": usage.catalogue,
        },
    )
    return row


def revision_usage(*, revision_id: int, page: Page) -> Usage:
    """The stored usage of a revision; a revision saved before usage was recorded is walked
    now (in memory: the request path writes nothing) and recorded by a job."""
    row = RevisionPersonalization.objects.filter(revision_id=revision_id).first()
    if row is not None:
        return Usage.of(row)
    enqueue("default", "cms.jobs.record_revision_usage", revision_id)
    return page_usage(page)
