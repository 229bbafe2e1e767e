"""Assignment on the request path: which variant a visitor sees. Reads use the in-process
registry and at most one query (the visitor's stored assignments); every write happens in a
job (`experiments.jobs`), which calls `experiments.recording` and `experiments.aggregates`.

Imports run one way, services → jobs → recording / aggregates, so this module may queue the
jobs and the jobs never import it. The writes stay importable from here for callers that
know them by this path."""

from __future__ import annotations

import datetime
import logging
import threading
from dataclasses import dataclass

from django.utils import timezone
from wagtail.models import Revision

from config.jobs import enqueue
from experiments.aggregates import aggregates_snapshot
from experiments.bucketing import assign, in_namespace
from experiments.jobs import record_exposure
from experiments.models import Assignment, Experiment, ExperimentStatus
from experiments.recording import (
    conversion_record,
    conversions_for_event,
    conversions_for_events,
    exposure_record,
    goal_could_match,
    goal_matches,
    visitor_experiments_merge,
)
from experiments.registry import ExperimentSpec, VariantSpec, running_experiments
from personalization.resolver import resolve

__all__ = [
    "VariantChoice",
    "aggregates_snapshot",
    "conversion_record",
    "conversions_for_event",
    "conversions_for_events",
    "declared_winners",
    "exposure_record",
    "goal_could_match",
    "goal_matches",
    "page_variant",
    "stored_assignments",
    "variant_for",
    "variant_peek",
    "visitor_experiments_merge",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VariantChoice:
    """The variant a request's visitor sees, and whether they count in the experiment."""

    experiment: ExperimentSpec
    variant: VariantSpec
    counted: bool
    reason: str

    @property
    def meta(self) -> dict:
        return {
            "experiment": self.experiment.key,
            "variant": self.variant.name,
            "counted": self.counted,
        }


def stored_assignments(request) -> dict[int, int]:
    """experiment id → variant id already stored for this visitor (one query, memoized)."""
    cached = getattr(request, "_experiment_assignments", None)
    if cached is not None:
        return cached
    visitor = getattr(request, "visitor", None)
    assignments: dict[int, int] = {}
    if visitor is not None and visitor.pk is not None:
        assignments = dict(
            Assignment.objects.filter(visitor_id=visitor.pk).values_list(
                "experiment_id", "variant_id"
            )
        )
    request._experiment_assignments = assignments
    return assignments


def _visitor_id(request) -> str:
    visitor = getattr(request, "visitor", None)
    return str(visitor.uuid if visitor is not None else request.visitor_uuid)


# WINNERS
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WinnerSpec:
    """A completed experiment's declared winner, served to everyone until the page that held
    the experiment is published again (then the page itself has the winner's content)."""

    experiment: ExperimentSpec
    winner: VariantSpec
    stopped_at: datetime.datetime | None


@dataclass(frozen=True)
class Winners:
    token: str
    by_key: dict[str, WinnerSpec]
    by_page: dict[int, WinnerSpec]


_winners_lock = threading.Lock()
_winners: Winners | None = None


def _load_winners(token: str) -> Winners:
    completed = (
        Experiment.objects.filter(status=ExperimentStatus.COMPLETED, winner__isnull=False)
        .select_related("winner")
        .prefetch_related("variants")
    )
    specs = []
    for experiment in completed:
        variants = tuple(
            VariantSpec(v.pk, v.name, v.weight, v.revision_id)
            for v in sorted(experiment.variants.all(), key=lambda v: (v.sort_order or 0, v.pk))
        )
        winner = next((v for v in variants if v.id == experiment.winner_id), None)
        if winner is None:
            continue
        spec = ExperimentSpec(
            experiment.pk,
            experiment.key,
            experiment.seed,
            experiment.coverage,
            variants,
            frozenset(),
            experiment.page_id,
        )
        specs.append(WinnerSpec(spec, winner, experiment.stopped_at))
    return Winners(
        token,
        {s.experiment.key: s for s in specs},
        {s.experiment.page_id: s for s in specs if s.experiment.page_id},
    )


def declared_winners() -> Winners:
    """Completed experiments with a winner, reloaded with the running ones (same token: any
    change to an experiment bumps it), so serving a winner costs no query."""
    global _winners
    token = running_experiments().token
    current = _winners
    if current is not None and current.token == token:
        return current
    with _winners_lock:
        if _winners is None or _winners.token != token:
            _winners = _load_winners(token)
        return _winners


def _winner_choice(request, key: str) -> VariantChoice | None:
    """Everyone sees a declared winner; nothing is recorded."""
    declared = declared_winners().by_key.get(key)
    if declared is None:
        return None
    memo = request.__dict__.setdefault("_experiment_choices", {})
    choice = VariantChoice(declared.experiment, declared.winner, False, "winner")
    memo[key] = choice
    return choice


# ASSIGNMENT
# ------------------------------------------------------------------------------


def variant_for(request, key: str) -> VariantChoice | None:
    """The visitor's variant of experiment `key`: while it runs, their assignment; once a winner
    is declared, the winner for everyone (not counted); otherwise None.

    Stored assignment first (sticky); else the GrowthBook hash of the visitor id. Visitors
    outside the targeting or the coverage see the control and are not counted."""
    spec = running_experiments().by_key.get(key)
    if spec is None:
        return _winner_choice(request, key)
    memo = request.__dict__.setdefault("_experiment_choices", {})
    if key in memo:
        return memo[key]
    choice = _choose(request, spec)
    memo[key] = choice
    if choice.counted and not getattr(request, "is_preview", False):
        _record_exposure_once(request, choice)
    return choice


def variant_peek(request, key: str) -> VariantChoice | None:
    """What `variant_for` answers for experiment `key`, without recording anything: for a
    cache key, which must know the variant before deciding whether to render
    (`cms.render_cache.keys`). Serving still goes through `variant_for`."""
    memo = getattr(request, "_experiment_choices", None) or {}
    if key in memo:
        return memo[key]
    spec = running_experiments().by_key.get(key)
    if spec is None:
        declared = declared_winners().by_key.get(key)
        if declared is None:
            return None
        return VariantChoice(declared.experiment, declared.winner, False, "winner")
    return _choose(request, spec)


def _choose(request, spec: ExperimentSpec) -> VariantChoice:
    if getattr(request, "is_preview", False):
        return VariantChoice(spec, spec.control, False, "preview")
    resolution = resolve(request)
    if spec.target_segment_ids and not spec.target_segment_ids & set(resolution.segment_ids):
        return VariantChoice(spec, spec.control, False, "not targeted")
    stored = spec.variant_by_id(stored_assignments(request).get(spec.id, -1))
    if stored is not None:
        return VariantChoice(spec, stored, True, "stored")
    if spec.namespace is not None and not in_namespace(_visitor_id(request), spec.namespace):
        return VariantChoice(spec, spec.control, False, "other experiment in layer")
    index = assign(
        seed=spec.seed,
        visitor_id=_visitor_id(request),
        weights=spec.weights,
        coverage=spec.coverage,
    )
    if index is None:
        return VariantChoice(spec, spec.control, False, "outside coverage")
    return VariantChoice(spec, spec.variants[index], True, "assigned")


def _record_exposure_once(request, choice: VariantChoice) -> None:
    """Queue the exposure, unless this visitor's assignment is already stored (then it was)."""
    if choice.reason == "stored":
        return
    user = getattr(request, "user", None)
    enqueue(
        "events",
        record_exposure,
        {
            "experiment_id": choice.experiment.id,
            "variant_id": choice.variant.id,
            "visitor": _visitor_id(request),
            "user_id": user.pk if user is not None and user.is_authenticated else None,
            "segment_ids": list(resolve(request).segment_ids),
            "at": timezone.now().isoformat(),
        },
    )


def page_variant(request, page):
    """For a page with a running page-level experiment: (page to serve, choice) — the variant's
    draft revision, or the live page for the control. For a page whose experiment has a declared
    winner and that was not published since: the winner's revision for everyone. Else
    (page, None)."""
    spec = running_experiments().by_page.get(page.pk)
    if spec is None:
        return _page_winner(request, page)
    choice = variant_for(request, spec.key)
    if choice is None or choice.variant.revision_id is None:
        return page, choice
    revision = Revision.objects.filter(pk=choice.variant.revision_id).first()
    if revision is None:
        return page, choice
    return revision.as_object(), choice


def _page_winner(request, page):
    """The declared winner of the page's experiment, until the page is published again."""
    declared = declared_winners().by_page.get(page.pk)
    if declared is None:
        return page, None
    published = getattr(page, "last_published_at", None)
    if published is not None and declared.stopped_at and published > declared.stopped_at:
        return page, None  # the editor published the page since: it holds what they chose
    choice = _winner_choice(request, declared.experiment.key)
    if declared.winner.revision_id is None:
        return page, choice
    revision = Revision.objects.filter(pk=declared.winner.revision_id).first()
    if revision is None:
        return page, choice
    return revision.as_object(), choice
