"""Experiments: variants with weights, goals, sticky assignments, exposures and conversions.

A visitor's variant is a pure function of (hash seed, visitor id, weights, coverage) until it is
first served; from then on the stored Assignment wins, so changing weights never reshuffles who
already saw what. Exposures and conversions are written by jobs, never on the request path, and
their uniqueness is a database constraint.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.models import Orderable

from personalization.events.models import EventType
from personalization.models import Visitor


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")


class AnalysisMethod(models.TextChoices):
    SEQUENTIAL = "sequential", _("Sequential: read the results at any time")
    FIXED = "fixed", _("Fixed horizon: read once, at a planned sample size")


class Correction(models.TextChoices):
    HOLM = "holm", _("Holm: no false winner anywhere in the report")
    BH = "bh", _("Benjamini–Hochberg: few false winners among the winners")


class ExperimentKind(models.TextChoices):
    AB = "ab", _("A/B test")
    HOLDOUT = "holdout", _("Personalization holdout")


class Allocation(models.TextChoices):
    FIXED = "fixed", _("Fixed weights")
    BANDIT = "bandit", _("Bandit: shift traffic to the better variants (Thompson sampling)")


class Layer(models.Model):
    """A set of mutually exclusive experiments: each takes a slice of the layer's hash range
    (GrowthBook's namespaces), so no visitor takes part in two experiments of one layer."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("layer")
        verbose_name_plural = _("layers")

    def __str__(self) -> str:
        return self.name


class TransitionError(ValueError):
    """A status change the experiment's state machine does not allow."""


class Experiment(ClusterableModel):
    """An A/B(/n) test of block content or of a whole page, overall and per segment."""

    key = models.SlugField(
        _("key"),
        max_length=64,
        unique=True,
        help_text=_("Names the experiment in blocks, the API and the hash; fixed once it runs."),
    )
    name = models.CharField(_("name"), max_length=120)
    hypothesis = models.TextField(_("hypothesis"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT
    )
    target_segments = ParentalManyToManyField(
        "personalization.Segment",
        verbose_name=_("target segments"),
        blank=True,
        related_name="experiments",
        help_text=_("Only visitors in one of these segments take part (empty: everyone)."),
    )
    coverage = models.FloatField(
        _("coverage"),
        default=1.0,
        help_text=_("Share of eligible visitors who take part (0–1); others see control."),
    )
    hash_seed = models.CharField(
        _("hash seed"),
        max_length=64,
        blank=True,
        help_text=_("Defaults to the key. Change it to re-randomise."),
    )
    page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("For a page-level experiment: the page whose variants serve other revisions."),
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    winner = models.ForeignKey(
        "experiments.Variant",
        verbose_name=_("winner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Analysis (issue 16 §3; docs/statistics.md)
    analysis = models.CharField(
        _("analysis"),
        max_length=12,
        choices=AnalysisMethod.choices,
        default=AnalysisMethod.SEQUENTIAL,
    )
    alpha = models.FloatField(
        _("significance level"),
        default=0.05,
        help_text=_("Chance of a false winner per comparison, between 0 and 0.5 (usually 0.05)."),
    )
    correction = models.CharField(
        _("multiple-comparison correction"),
        max_length=4,
        choices=Correction.choices,
        default=Correction.HOLM,
    )
    baseline_rate = models.FloatField(
        _("baseline conversion rate"), null=True, blank=True, help_text=_("0–1.")
    )
    minimum_detectable_effect = models.FloatField(
        _("minimum detectable effect"),
        null=True,
        blank=True,
        help_text=_("Relative to the baseline rate (0.1 = +10 %)."),
    )
    power = models.FloatField(_("power"), default=0.8)
    planned_sample_size = models.PositiveIntegerField(
        _("planned visitors per variant"), null=True, blank=True
    )
    cuped_window_days = models.PositiveSmallIntegerField(
        _("CUPED window (days)"),
        default=14,
        help_text=_(
            "Days before a visitor's first exposure whose behaviour reduces noise (0: off)."
        ),
    )
    # What kind of experiment (issue 16 §4): an A/B test, or a personalization holdout whose
    # control ("default") is the default content and whose other arm is the segment's variant
    kind = models.CharField(
        _("kind"), max_length=8, choices=ExperimentKind.choices, default=ExperimentKind.AB
    )
    holdout_segment = models.ForeignKey(
        "personalization.Segment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="holdouts",
        verbose_name=_("held-out segment"),
        help_text=_("Holdouts: the segment whose visitors are held out (empty: every segment)."),
    )
    # Layers (mutual exclusion): the slice [namespace_start, namespace_end) of the layer's range
    layer = models.ForeignKey(
        Layer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="experiments",
        verbose_name=_("layer"),
    )
    namespace_start = models.FloatField(_("layer range start"), default=0.0)
    namespace_end = models.FloatField(_("layer range end"), default=1.0)
    # Bandit allocation
    allocation = models.CharField(
        _("allocation"), max_length=8, choices=Allocation.choices, default=Allocation.FIXED
    )
    bandit_burn_in = models.PositiveIntegerField(
        _("burn-in (exposures per variant)"),
        default=200,
        help_text=_("Equal weights until every variant has been seen this many times."),
    )
    bandit_floor = models.FloatField(
        _("exploration floor"),
        default=0.05,
        help_text=_("The smallest share any variant keeps (0.05 = 5 %)."),
    )
    bandit_interval_minutes = models.PositiveIntegerField(
        _("reweighting interval (minutes)"), default=60
    )
    bandit_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Guardrails
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
        help_text=_("Told by e-mail when a guardrail shows harm."),
    )
    pause_on_harm = models.BooleanField(
        _("pause on harm"),
        default=False,
        help_text=_("Pause the experiment automatically when a guardrail shows significant harm."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(alpha__gt=0, alpha__lt=0.5), name="experiment_alpha_range"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    namespace_start__gte=0,
                    namespace_end__lte=1,
                    namespace_start__lt=models.F("namespace_end"),
                ),
                name="experiment_namespace_range",
            ),
            models.CheckConstraint(
                condition=models.Q(bandit_floor__gte=0, bandit_floor__lt=0.5),
                name="experiment_bandit_floor_range",
            ),
            models.UniqueConstraint(
                fields=["holdout_segment"],
                condition=models.Q(kind="holdout"),
                name="unique_segment_holdout",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def sequential(self) -> bool:
        return self.analysis != AnalysisMethod.FIXED

    @property
    def seed(self) -> str:
        return self.hash_seed or self.key

    def start(self) -> None:
        """Draft or paused → running (first start stamps started_at)."""
        if self.status not in (ExperimentStatus.DRAFT, ExperimentStatus.PAUSED):
            raise TransitionError(
                gettext("A %(status)s experiment cannot start.")
                % {"status": self.get_status_display().lower()}
            )
        problems = self.readiness_problems()
        if problems:
            raise TransitionError(" ".join(problems))
        self.status = ExperimentStatus.RUNNING
        self.started_at = self.started_at or timezone.now()
        self.save(update_fields=["status", "started_at", "updated_at"])

    def pause(self) -> None:
        """Running → paused: everyone sees the control; assignments are kept."""
        if self.status != ExperimentStatus.RUNNING:
            raise TransitionError(gettext("Only a running experiment can be paused."))
        self.status = ExperimentStatus.PAUSED
        self.save(update_fields=["status", "updated_at"])

    def complete(self, winner: Variant | None = None) -> None:
        """Running or paused → completed, optionally naming the winning variant."""
        if self.status not in (ExperimentStatus.RUNNING, ExperimentStatus.PAUSED):
            raise TransitionError(gettext("Only a running or paused experiment can be completed."))
        if winner is not None and winner.experiment_id != self.pk:
            raise TransitionError(gettext("The winner must be one of this experiment's variants."))
        self.status = ExperimentStatus.COMPLETED
        self.stopped_at = timezone.now()
        self.winner = winner
        self.save(update_fields=["status", "stopped_at", "winner", "updated_at"])

    def readiness_problems(self) -> list[str]:
        """What stops this experiment from running, in words an editor can act on."""
        variants = list(self.variants.all())
        problems = []
        if len(variants) < 2:
            problems.append(gettext("Add at least two variants (the first is the control)."))
        total = sum(v.weight for v in variants)
        if variants and abs(total - 1) > 0.001:
            problems.append(
                gettext("Variant weights must add up to 1 (they add up to %(total)s).")
                % {"total": f"{total:g}"}
            )
        goals = list(self.goals.all())
        if not any(g.is_primary for g in goals):
            problems.append(gettext("Choose one primary goal."))
        problems += [p for g in goals for p in g.problems()]
        problems += self._layer_problems()
        return problems

    def _layer_problems(self) -> list[str]:
        """Two running experiments of one layer must not share a slice (the form refuses it;
        this also holds for experiments made in code)."""
        if self.layer_id is None:
            return []
        clashes = (
            Experiment.objects.filter(
                layer_id=self.layer_id,
                status__in=[ExperimentStatus.RUNNING, ExperimentStatus.PAUSED],
                namespace_start__lt=self.namespace_end,
                namespace_end__gt=self.namespace_start,
            )
            .exclude(pk=self.pk)
            .values_list("name", flat=True)
        )
        return [
            gettext("Its slice of the layer overlaps “%(name)s”, which is running or paused.")
            % {"name": name}
            for name in clashes
        ]


class Variant(Orderable):
    """One arm of an experiment; the first (by order) is the control."""

    experiment = ParentalKey(
        Experiment, verbose_name=_("experiment"), on_delete=models.CASCADE, related_name="variants"
    )
    name = models.SlugField(_("name"), max_length=40, help_text=_("e.g. control, b, big-photo."))
    weight = models.FloatField(
        _("weight"), default=0.5, help_text=_("Share of traffic, 0–1; all add up to 1.")
    )
    revision = models.ForeignKey(
        "wagtailcore.Revision",
        verbose_name=_("revision"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Page-level experiments: the draft revision this variant's visitors see."),
    )

    class Meta(Orderable.Meta):
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        constraints = [
            models.UniqueConstraint(fields=["experiment", "name"], name="unique_variant_name")
        ]

    def __str__(self) -> str:
        return self.name


class GoalKind(models.TextChoices):
    PAGE_VISIT = "page_visit", _("Visit a page (or any page under it)")
    EVENT = "event", _("An event happens")
    CUSTOM = "custom", _("A custom event name")


class HarmDirection(models.TextChoices):
    INCREASE = "increase", _("an increase (e.g. unsubscribes)")
    DECREASE = "decrease", _("a decrease (e.g. purchases)")


class Goal(Orderable):
    """What counts as a conversion: a page visit, an event type, or a custom event."""

    experiment = ParentalKey(
        Experiment, verbose_name=_("experiment"), on_delete=models.CASCADE, related_name="goals"
    )
    name = models.CharField(_("name"), max_length=80)
    is_primary = models.BooleanField(_("is primary"), default=False)
    kind = models.CharField(
        _("kind"), max_length=12, choices=GoalKind.choices, default=GoalKind.EVENT
    )
    page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    include_descendants = models.BooleanField(_("include descendants"), default=True)
    page_was_set = models.BooleanField(default=False, editable=False)
    event_type = models.CharField(
        _("event type"), max_length=32, choices=EventType.choices, blank=True
    )
    min_amount = models.DecimalField(
        _("min amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    custom_name = models.CharField(_("custom name"), max_length=100, blank=True)
    # Guardrails: tested one-sided for harm, never a reason to ship
    is_guardrail = models.BooleanField(_("guardrail"), default=False)
    harm_direction = models.CharField(
        _("harm is"),
        max_length=8,
        choices=HarmDirection.choices,
        default=HarmDirection.INCREASE,
    )

    class Meta(Orderable.Meta):
        verbose_name = _("goal")
        verbose_name_plural = _("goals")

    def __str__(self) -> str:
        return self.name

    def problems(self) -> list[str]:
        """Why this goal cannot be measured, if it cannot."""
        if self.kind == GoalKind.PAGE_VISIT and self.page_id is None:
            if self.page_was_set:
                return [
                    gettext("Goal “%(name)s”: its page was deleted; choose another page.")
                    % {"name": self.name}
                ]
            return [gettext("Goal “%(name)s”: choose the page to visit.") % {"name": self.name}]
        if self.kind == GoalKind.EVENT and not self.event_type:
            return [gettext("Goal “%(name)s”: choose the event type.") % {"name": self.name}]
        if self.kind == GoalKind.CUSTOM and not self.custom_name.strip():
            return [gettext("Goal “%(name)s”: give the custom event name.") % {"name": self.name}]
        return []

    def clean(self) -> None:
        problems = self.problems()
        if problems:
            raise ValidationError(problems[0])

    def save(self, *args, **kwargs):
        if self.page_id:
            self.page_was_set = True
        super().save(*args, **kwargs)


class Assignment(models.Model):
    """A visitor's variant, stored when first served: sticky across weight changes."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="+")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["experiment", "visitor"], name="unique_assignment")
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} → {self.variant_id}"


class Exposure(models.Model):
    """The first time a visitor was actually served a variant, with their segments then."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="exposures")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="exposures")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="+")
    exposed_at = models.DateTimeField(default=timezone.now)
    segment_ids = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["experiment", "visitor"], name="unique_exposure")
        ]
        indexes = [models.Index(fields=["experiment", "variant", "exposed_at"])]

    def __str__(self) -> str:
        return f"{self.visitor_id} saw {self.variant_id}"


class ExposureSegment(models.Model):
    """One segment a visitor was in when exposed (for per-segment results)."""

    exposure = models.ForeignKey(Exposure, on_delete=models.CASCADE, related_name="segments")
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="+")
    segment_id = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["exposure", "segment_id"], name="unique_exposure_segment"
            )
        ]
        indexes = [models.Index(fields=["experiment", "segment_id", "variant"])]

    def __str__(self) -> str:
        return f"{self.exposure_id} in segment {self.segment_id}"


class ExposureCovariate(models.Model):
    """A goal the visitor had already reached in the days before their first exposure (the
    experiment's CUPED window), snapshot when the exposure is stored. No row: not reached."""

    exposure = models.ForeignKey(Exposure, on_delete=models.CASCADE, related_name="covariates")
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="+")
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exposure", "goal"], name="unique_exposure_covariate")
        ]
        indexes = [models.Index(fields=["experiment", "goal", "variant"])]

    def __str__(self) -> str:
        return f"{self.exposure_id} had reached {self.goal_id} before"


class Conversion(models.Model):
    """A goal reached after exposure: at most one per visitor per goal (a DB constraint)."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="+")
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="conversions")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="conversions")
    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="experiment_conversions"
    )
    converted_at = models.DateTimeField(default=timezone.now)
    value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["goal", "visitor"], name="unique_conversion")
        ]
        indexes = [models.Index(fields=["experiment", "goal", "variant"])]

    def __str__(self) -> str:
        return f"{self.visitor_id} reached {self.goal_id}"


class DailyAggregate(models.Model):
    """Per day, variant and goal: exposures and conversions on that day, kept by the `reports`
    job so the report never scans exposures or events."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="daily")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    exposures = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    value_sum = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    value_sum_squares = models.FloatField(default=0)
    # CUPED (by exposure day): exposed visitors who had reached the goal in the window before,
    # and how many of them converted after exposure
    pre_conversions = models.PositiveIntegerField(default=0)
    pre_post_conversions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "variant", "goal", "day"], name="unique_daily_aggregate"
            )
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id}/{self.variant_id}/{self.goal_id}/{self.day}"


class SegmentAggregate(models.Model):
    """Totals per segment-at-exposure, variant and goal, kept by the same job."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="+")
    segment_id = models.IntegerField()
    exposures = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    value_sum = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    value_sum_squares = models.FloatField(default=0)
    pre_conversions = models.PositiveIntegerField(default=0)
    pre_post_conversions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "variant", "goal", "segment_id"],
                name="unique_segment_aggregate",
            )
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id}/{self.variant_id}/{self.goal_id}/segment {self.segment_id}"


class ExperimentSnapshot(models.Model):
    """When the aggregates of an experiment were last computed."""

    experiment = models.OneToOneField(Experiment, on_delete=models.CASCADE, related_name="snapshot")
    computed_at = models.DateTimeField()
    seconds = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"{self.experiment_id} at {self.computed_at:%Y-%m-%d %H:%M}"


class ExperimentUsage(models.Model):
    """One A/B block of a saved page revision: the experiment it tests and the variant keys it
    holds, in block order. Recorded whenever a page revision is saved or published
    (`experiments.usage`), so an experiment's views list the pages that use it, live (the
    page's live revision) or as a draft (its latest, unpublished revision), and "which
    experiments does this revision use" is a lookup, not a walk through its blocks.

    The experiment is named by key, as the block names it: a block whose experiment was deleted
    or renamed still shows up, under the key it would look for when served."""

    revision = models.ForeignKey(
        "wagtailcore.Revision", on_delete=models.CASCADE, related_name="experiment_usages"
    )
    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    experiment_key = models.CharField(max_length=64)
    block_path = models.TextField(help_text="Where the block is: field/block id/… inside the page.")
    variant_keys = models.JSONField(default=list, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "block_path"], name="unique_experiment_usage"
            )
        ]
        indexes = [models.Index(fields=["experiment_key", "page"])]

    def __str__(self) -> str:
        return f"{self.experiment_key} in revision {self.revision_id} ({self.block_path})"


class GuardrailAlert(models.Model):
    """A guardrail goal on which a variant showed significant harm: found by the periodic
    guardrail check, once per (experiment, goal, variant); the owner is told once."""

    experiment = models.ForeignKey(
        Experiment, on_delete=models.CASCADE, related_name="guardrail_alerts"
    )
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    detected_at = models.DateTimeField(default=timezone.now)
    p_value = models.FloatField()
    uplift = models.FloatField(help_text="Relative change of the goal's rate against control.")
    paused = models.BooleanField(default=False)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "goal", "variant"], name="unique_guardrail_alert"
            )
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id}: {self.variant_id} harms {self.goal_id}"


class BanditWeights(models.Model):
    """One reweighting of a bandit experiment: the weights set, and the data they came from."""

    experiment = models.ForeignKey(
        Experiment, on_delete=models.CASCADE, related_name="bandit_history"
    )
    computed_at = models.DateTimeField(default=timezone.now)
    phase = models.CharField(max_length=8)  # "burn-in" or "thompson"
    weights = models.JSONField(help_text="Variant name → weight (0–1).")
    exposures = models.JSONField(default=dict)
    conversions = models.JSONField(default=dict)

    class Meta:
        ordering = ["computed_at", "pk"]
        indexes = [models.Index(fields=["experiment", "computed_at"])]

    def __str__(self) -> str:
        return f"{self.experiment_id} at {self.computed_at:%Y-%m-%d %H:%M}"
