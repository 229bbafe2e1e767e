"""The running experiments as plain data, loaded once per process and reloaded when any
experiment changes (a cache token, like the segment set), so serving a variant costs no query."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Max

from config import version_tokens
from experiments.models import Experiment, ExperimentKind, ExperimentStatus


@dataclass(frozen=True)
class VariantSpec:
    id: int
    name: str
    weight: float
    revision_id: int | None


@dataclass(frozen=True)
class GoalSpec:
    id: int
    kind: str
    page_path: str | None
    include_descendants: bool
    event_type: str
    min_amount: float | None
    custom_name: str


@dataclass(frozen=True)
class ExperimentSpec:
    """What serving needs of a running experiment."""

    id: int
    key: str
    seed: str
    coverage: float
    variants: tuple[VariantSpec, ...]
    target_segment_ids: frozenset[int]
    page_id: int | None
    goals: tuple[GoalSpec, ...] = ()
    # (layer key, start, end): the visitor takes part only inside this slice of the layer
    namespace: tuple[str, float, float] | None = None
    kind: str = "ab"
    holdout_segment_id: int | None = None

    @property
    def control(self) -> VariantSpec:
        return self.variants[0]

    @property
    def weights(self) -> list[float]:
        return [v.weight for v in self.variants]

    def variant_by_id(self, variant_id: int) -> VariantSpec | None:
        return next((v for v in self.variants if v.id == variant_id), None)


@dataclass(frozen=True)
class Registry:
    token: str
    by_key: dict[str, ExperimentSpec]
    by_page: dict[int, ExperimentSpec]
    # running personalization holdouts by held-out segment id (None: the global holdout)
    holdouts: dict[int | None, ExperimentSpec] = field(default_factory=dict)


def _experiments_state() -> str:
    """The registry's token derived from the experiments (when the cache has none)."""
    stats = Experiment.objects.aggregate(changed=Max("updated_at"), count=Count("id"))
    return f"{stats['count']}:{stats['changed'].isoformat() if stats['changed'] else '-'}"


# The registry's version token (read once per request); bumping it makes every process reload
# the running experiments on its next request.
_token = version_tokens.VersionToken("experiments:registry-token", _experiments_state)
TOKEN_CACHE_KEY = _token.key
bump_registry = _token.bump


def _load(token: str) -> Registry:
    running = (
        Experiment.objects.filter(status=ExperimentStatus.RUNNING)
        .select_related("layer")
        .prefetch_related("variants", "target_segments", "goals__page")
    )
    specs = []
    for experiment in running:
        variants = tuple(
            VariantSpec(v.pk, v.name, v.weight, v.revision_id)
            for v in sorted(experiment.variants.all(), key=lambda v: (v.sort_order or 0, v.pk))
        )
        if len(variants) < 2:
            continue
        goals = tuple(
            GoalSpec(
                g.pk,
                g.kind,
                g.page.path if g.page else None,
                g.include_descendants,
                g.event_type,
                float(g.min_amount) if g.min_amount is not None else None,
                g.custom_name.strip(),
            )
            for g in experiment.goals.all()
        )
        specs.append(
            ExperimentSpec(
                experiment.pk,
                experiment.key,
                experiment.seed,
                experiment.coverage,
                variants,
                frozenset(s.pk for s in experiment.target_segments.all()),
                experiment.page_id,
                goals,
                namespace=(
                    (experiment.layer.key, experiment.namespace_start, experiment.namespace_end)
                    if experiment.layer is not None
                    else None
                ),
                kind=experiment.kind,
                holdout_segment_id=experiment.holdout_segment_id,
            )
        )
    holdouts = {s.holdout_segment_id: s for s in specs if s.kind == ExperimentKind.HOLDOUT}
    tests = [s for s in specs if s.kind != ExperimentKind.HOLDOUT]
    return Registry(
        token,
        {s.key: s for s in specs},
        {s.page_id: s for s in tests if s.page_id},
        holdouts,
    )


_running = version_tokens.PerProcess(_token, _load)


def running_experiments() -> Registry:
    """The running experiments, reloaded when the token changes."""
    return _running.get()
