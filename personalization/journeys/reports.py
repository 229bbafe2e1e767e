"""The journey report: entered, messaged, suppressed and converted, per journey and step, and
what its messages produced: sent, opened links (messages whose tracked link was opened at least
once), clicks (every opening) and goals reached (purchases) within the attribution days."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from personalization.journeys.models import (
    EntryStatus,
    Journey,
    JourneyEntry,
    JourneyMessage,
    JourneyStep,
    MessageStatus,
)

logger = logging.getLogger(__name__)


# REPORT
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepReport:
    step: JourneyStep
    sent: int
    suppressed_cap: int
    suppressed_consent: int
    failed: int
    skipped: int
    pending: int
    converted: int
    opened: int = 0
    clicks: int = 0


@dataclass(frozen=True)
class JourneyReport:
    journey: Journey
    entered: int
    waiting: int
    messaged: int
    cancelled: int
    exited: int
    suppressed_cap: int
    suppressed_consent: int
    converted: int
    steps: list[StepReport]
    sent: int = 0
    opened: int = 0
    clicks: int = 0

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.messaged if self.messaged else None


def journey_report(*, journey: Journey) -> JourneyReport:
    """Entered, messaged, suppressed (cap / consent), converted — per journey and per step, from
    a few GROUP BY queries."""
    entries = JourneyEntry.objects.filter(journey=journey).aggregate(
        entered=Count("pk"),
        waiting=Count("pk", filter=Q(status=EntryStatus.WAITING)),
        messaged=Count("pk", filter=Q(first_messaged_at__isnull=False)),
        cancelled=Count("pk", filter=Q(status=EntryStatus.CANCELLED)),
        exited=Count("pk", filter=Q(status=EntryStatus.EXITED)),
        converted=Count("pk", filter=Q(converted_at__isnull=False)),
    )
    by_step: dict[int | None, Counter] = defaultdict(Counter)
    for row in (
        JourneyMessage.objects.filter(journey=journey)
        .values("step_id", "status")
        .annotate(n=Count("pk"), opened=Count("pk", filter=Q(clicks__gt=0)), clicks=Sum("clicks"))
    ):
        by_step[row["step_id"]][row["status"]] += row["n"]
        by_step[row["step_id"]]["opened"] += row["opened"]
        by_step[row["step_id"]]["clicks"] += row["clicks"] or 0
    converted_after = dict(
        JourneyMessage.objects.filter(
            journey=journey,
            status=MessageStatus.SENT,
            entry__converted_at__isnull=False,
        )
        .values("step_id")
        .annotate(n=Count("entry", distinct=True))
        .values_list("step_id", "n")
    )
    totals: Counter = sum(by_step.values(), Counter())
    steps = [
        StepReport(
            step=step,
            sent=by_step[step.pk][MessageStatus.SENT],
            suppressed_cap=by_step[step.pk][MessageStatus.SUPPRESSED_CAP],
            suppressed_consent=by_step[step.pk][MessageStatus.SUPPRESSED_CONSENT],
            failed=by_step[step.pk][MessageStatus.FAILED],
            skipped=by_step[step.pk][MessageStatus.SKIPPED],
            pending=by_step[step.pk][MessageStatus.PENDING],
            converted=converted_after.get(step.pk, 0),
            opened=by_step[step.pk]["opened"],
            clicks=by_step[step.pk]["clicks"],
        )
        for step in journey.steps.order_by("sort_order", "pk")
    ]
    return JourneyReport(
        journey=journey,
        suppressed_cap=totals[MessageStatus.SUPPRESSED_CAP],
        suppressed_consent=totals[MessageStatus.SUPPRESSED_CONSENT],
        sent=totals[MessageStatus.SENT],
        opened=totals["opened"],
        clicks=totals["clicks"],
        steps=steps,
        **entries,
    )


# FUNNEL
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStage:
    """One bar of the funnel: how many got this far, as a share of those who entered and of the
    stage before (the step's conversion)."""

    label: str
    count: int
    of_entered: float | None
    of_previous: float | None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def journey_funnel(report: JourneyReport) -> list[FunnelStage]:
    """Entered → each step's messages sent → converted, from the report's counts."""
    counts = [(_("Entered"), report.entered)]
    counts += [
        (_("Step %(number)d: %(step)s") % {"number": number, "step": row.step}, row.sent)
        for number, row in enumerate(report.steps, start=1)
    ]
    counts.append((_("Converted"), report.converted))
    stages = []
    previous = None
    for label, count in counts:
        stages.append(
            FunnelStage(
                label=label,
                count=count,
                of_entered=_share(count, report.entered),
                of_previous=None if previous is None else _share(count, previous),
            )
        )
        previous = count
    return stages
