"""Marks in the admin's page listings: which pages are personalized (their live revision
consults a segment) and which are in an experiment (an A/B block in the live revision, or a
page-level experiment that is running or paused).

Read from the stored per-revision usage (`RevisionPersonalization`), never by walking the
pages' StreamFields: the explorer's queryset is annotated once (`annotate_marks`, from the
`construct_explorer_page_queryset` hook); other listings ask per page (`page_marks`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from cms.models import RevisionPersonalization
from experiments.models import Experiment, ExperimentStatus

ACTIVE = (ExperimentStatus.RUNNING, ExperimentStatus.PAUSED)


@dataclass(frozen=True)
class Marks:
    personalized: bool
    in_experiment: bool


def _live_usage():
    return RevisionPersonalization.objects.filter(revision_id=OuterRef("live_revision_id"))


def annotate_marks(pages: QuerySet) -> QuerySet:
    """The pages with `personalized_mark`, `ab_block_mark` and `page_experiment_mark`."""
    return pages.annotate(
        personalized_mark=Exists(_live_usage().exclude(segment_ids=[])),
        ab_block_mark=Exists(_live_usage().exclude(experiment_keys=[])),
        page_experiment_mark=Exists(
            Experiment.objects.filter(page_id=OuterRef("pk"), status__in=ACTIVE)
        ),
    )


def page_marks(page) -> Marks:
    """The marks of one page: from the explorer's annotations when present, else queried."""
    if hasattr(page, "personalized_mark"):
        return Marks(page.personalized_mark, page.ab_block_mark or page.page_experiment_mark)
    usage = RevisionPersonalization.objects.filter(revision_id=page.live_revision_id).first()
    in_block = bool(usage and usage.experiment_keys)
    on_page = Experiment.objects.filter(page_id=page.pk, status__in=ACTIVE).exists()
    return Marks(bool(usage and usage.segment_ids), in_block or on_page)
