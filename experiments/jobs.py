"""Jobs of the experiments app: they take plain data and call the writes in
`experiments.recording` and `experiments.aggregates` (never `experiments.services`, which
queues them). RQ finds them by path (`experiments.jobs.<name>`): keep these names."""

from __future__ import annotations

import logging

from experiments.aggregates import aggregates_snapshot
from experiments.bandits import bandit_reweight, bandits_due
from experiments.guardrails import guardrails_check
from experiments.models import Experiment, ExperimentStatus
from experiments.recording import exposure_record

logger = logging.getLogger(__name__)


def record_exposure(payload: dict) -> bool:
    """Store an exposure (the `events` queue); True when it was new."""
    return exposure_record(**payload) is not None


def snapshot_aggregates(experiment_id: int) -> float | None:
    """Recompute one experiment's report aggregates (the `reports` queue); seconds taken."""
    experiment = Experiment.objects.filter(pk=experiment_id).first()
    if experiment is None:
        return None
    return aggregates_snapshot(experiment=experiment).seconds


def snapshot_daily_aggregates() -> int:
    """The periodic job: refresh the aggregates of every running or paused experiment."""
    active = Experiment.objects.filter(
        status__in=[ExperimentStatus.RUNNING, ExperimentStatus.PAUSED]
    )
    for experiment in active:
        aggregates_snapshot(experiment=experiment)
    return active.count()


def reweight_bandits() -> int:
    """The periodic job (every 10 minutes): each running bandit whose reweighting interval has
    passed gets its aggregates recounted and new weights from them; how many were reweighted."""
    reweighted = 0
    for experiment in bandits_due():
        try:
            aggregates_snapshot(experiment=experiment)
            if bandit_reweight(experiment=experiment) is not None:
                reweighted += 1
        except Exception:  # one broken experiment must not keep the others' weights stale
            logger.exception("Reweighting bandit experiment %s failed", experiment.key)
    return reweighted


def check_guardrails() -> int:
    """The periodic job (hourly, after the aggregates' recount): each running experiment with
    guardrail goals gets its harms recorded, is paused if it asks for that, and its owner is
    told once (`experiments.guardrails`); the number of new alerts."""
    running = (
        Experiment.objects.filter(status=ExperimentStatus.RUNNING, goals__is_guardrail=True)
        .distinct()
        .select_related("owner")
        .prefetch_related("goals", "variants")
    )
    alerts = 0
    for experiment in running:
        try:
            alerts += len(guardrails_check(experiment=experiment))
        except Exception:  # one broken experiment must not stop the others' checks
            logger.exception("Guardrail check of experiment %s failed", experiment.key)
    return alerts
