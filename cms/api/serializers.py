"""Shapes of the page, preview and experiment endpoints. Query parameters are validated by
serializers too, so a bad one is a 400 naming it."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from wagtail.models import get_page_models

from cms.api.pages import page_summary
from personalization.api.serializers import (
    MAX_PAGE_ID,
    SiteDateTimeField,
    StorableCharField,
    StrictIntegerField,
)

MAX_PATH_LENGTH = 2048
MAX_PREVIEW_SEGMENTS = 20


def page_type_choices() -> list[str]:
    """ "app.Model" of every page type the site serves."""
    return sorted(m._meta.label for m in get_page_models() if m._meta.app_label != "wagtailcore")


# QUERY PARAMETERS
# ------------------------------------------------------------------------------


class PageListQuerySerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=[], required=False, help_text="A page type, e.g. cms.ContentPage."
    )
    parent = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_ID, required=False, help_text="Only children of this page."
    )
    section = serializers.SlugField(
        max_length=255, required=False, help_text="Only pages in this top-level section (slug)."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = page_type_choices()


class PageFindQuerySerializer(serializers.Serializer):
    path = StorableCharField(
        max_length=MAX_PATH_LENGTH, help_text="The page's path on the site, e.g. /dogs/."
    )

    def validate_path(self, value: str) -> str:
        if not value.startswith("/"):
            raise serializers.ValidationError(gettext("Start the path with /."))
        return value


class PreviewQuerySerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1024, help_text="From POST /api/v1/preview-tokens/.")


class ResultsQuerySerializer(serializers.Serializer):
    goal = serializers.IntegerField(
        min_value=1,
        max_value=MAX_PAGE_ID,
        required=False,
        help_text="One goal's results instead of the full report.",
    )


# PAGES
# ------------------------------------------------------------------------------


class RenditionSerializer(serializers.Serializer):
    filter = serializers.CharField()
    url = serializers.URLField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class ImageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    alt = serializers.CharField(allow_blank=True, help_text="Empty for decorative images.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    renditions = RenditionSerializer(many=True)


class PageLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField(allow_null=True)


class PageSummarySerializer(serializers.Serializer):
    """A page in a listing: no body (pages are fetched one by one, resolved for the visitor)."""

    id = serializers.IntegerField()
    type = serializers.CharField(help_text="app.Model, e.g. cms.ContentPage")
    title = serializers.CharField()
    slug = serializers.CharField()
    url = serializers.CharField(allow_null=True, help_text="The page's URL on the site.")
    section = serializers.CharField(allow_null=True)
    intro = serializers.CharField(allow_blank=True)
    image = ImageSerializer(allow_null=True)
    first_published_at = SiteDateTimeField(allow_null=True)
    last_published_at = SiteDateTimeField(allow_null=True)
    detail_url = serializers.CharField()

    def to_representation(self, instance) -> dict:
        return page_summary(instance, self.context["request"]._request)


class BlockSerializer(serializers.Serializer):
    """One body block. Blocks that choose per visitor carry `chosen` and only what was chosen."""

    type = serializers.CharField()
    id = serializers.CharField(allow_null=True)
    value = serializers.JSONField()
    chosen = serializers.DictField(
        required=False,
        help_text='What decided the content: {"segment": id|null}, {"offer", "capped"}, or '
        '{"experiment", "variant", "counted"}.',
    )


class HeroSerializer(serializers.Serializer):
    title = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    cta_label = serializers.CharField(allow_blank=True)
    cta_page = PageLinkSerializer(allow_null=True)


class MetaSegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class PageMetaSerializer(serializers.Serializer):
    personalized = serializers.BooleanField(help_text="False: the same for everyone (public).")
    preview = serializers.BooleanField()
    segments = MetaSegmentSerializer(
        many=True, help_text="The visitor's segments among those this page's blocks use."
    )
    experiments = serializers.ListField(child=serializers.DictField())
    blocks = serializers.ListField(
        child=serializers.DictField(), help_text="Each visitor-dependent block and its choice."
    )


class PageDetailSerializer(PageSummarySerializer):
    """A page with its body resolved for the visitor who asks."""

    parent = serializers.IntegerField(allow_null=True)
    seo_title = serializers.CharField(allow_blank=True)
    search_description = serializers.CharField(allow_blank=True)
    hero = HeroSerializer(allow_null=True, help_text="Home page only.")
    tags = serializers.ListField(child=serializers.CharField())
    children = PageSummarySerializer(
        many=True, help_text="Section pages: their live child pages the caller may see."
    )
    body = BlockSerializer(many=True)
    meta = PageMetaSerializer()


# PREVIEW
# ------------------------------------------------------------------------------


class PreviewTokenRequestSerializer(serializers.Serializer):
    page = StrictIntegerField(min_value=1, max_value=MAX_PAGE_ID)
    segments = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_PAGE_ID),
        max_length=MAX_PREVIEW_SEGMENTS,
        required=False,
        default=list,
        help_text="Preview as a visitor in these segments (none: the default content).",
    )


class PreviewTokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = SiteDateTimeField()
    url = serializers.URLField(help_text="GET it to see the latest draft as the segments see it.")


# EXPERIMENTS (STAFF)
# ------------------------------------------------------------------------------


class VariantSerializer(serializers.Serializer):
    name = serializers.CharField()
    weight = serializers.FloatField()


class GoalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    is_primary = serializers.BooleanField()


class ExperimentSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    hypothesis = serializers.CharField(allow_blank=True)
    coverage = serializers.FloatField()
    page = serializers.IntegerField(source="page_id", allow_null=True)
    started_at = SiteDateTimeField(allow_null=True)
    stopped_at = SiteDateTimeField(allow_null=True)
    winner = serializers.CharField(source="winner.name", allow_null=True, default=None)
    variants = VariantSerializer(many=True, source="variants.all")
    goals = GoalSerializer(many=True, source="goals.all")
    target_segments = serializers.SerializerMethodField(
        help_text="Ids of the segments taking part (empty: everyone)."
    )

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_target_segments(self, experiment) -> list[int]:
        return [segment.pk for segment in experiment.target_segments.all()]


# EXPERIMENT RESULTS (STAFF): the shape of experiments.selectors.experiment_report
# ------------------------------------------------------------------------------


def _fraction(help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


class ResultRowSerializer(serializers.Serializer):
    """One variant against the control; comparison fields are null on the control."""

    name = serializers.CharField()
    is_control = serializers.BooleanField()
    exposures = serializers.IntegerField()
    conversions = serializers.IntegerField()
    rate = _fraction("Conversion rate, 0-1.")
    revenue_per_visitor = _fraction()
    uplift = _fraction("Relative uplift over the control (0.1 = +10 %).")
    ci_low = _fraction("Interval of the relative uplift (1 - alpha; always valid if sequential).")
    ci_high = _fraction()
    abs_uplift = _fraction("Difference of conversion rates.")
    abs_ci_low = _fraction()
    abs_ci_high = _fraction()
    p_value = _fraction("Two-sided p-value of this comparison on its own.")
    adjusted_p_value = _fraction("Adjusted over every comparison of the report (`correction`).")
    chance_to_beat_control = _fraction("Bayesian, uniform prior; not adjusted.")
    cuped = serializers.BooleanField(help_text="Adjusted for pre-exposure behaviour (CUPED).")
    ready = serializers.BooleanField(help_text="Enough data (and the plan reached) for a verdict.")
    verdict = serializers.ChoiceField(
        choices=["collecting", "better", "worse", "no_difference"], allow_null=True
    )
    note = serializers.CharField(allow_blank=True)


class SrmSerializer(serializers.Serializer):
    p_value = _fraction()
    mismatch = serializers.BooleanField()


class GoalRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    primary = serializers.BooleanField()


class CorrectionSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=["holm", "bh"])
    name = serializers.CharField()
    comparisons = serializers.IntegerField(help_text="Comparisons in the family.")


class ResultsTableSerializer(serializers.Serializer):
    goal = GoalRefSerializer()
    segment_id = serializers.IntegerField(allow_null=True)
    variants = ResultRowSerializer(many=True)
    srm = SrmSerializer()


class GoalResultsSerializer(ResultsTableSerializer):
    """One goal's table (`?goal=`), its p-values adjusted over the whole report."""

    correction = CorrectionSerializer()


class SegmentResultsSerializer(ResultsTableSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ProgressSerializer(serializers.Serializer):
    exposures = serializers.IntegerField()
    fewest_conversions = serializers.IntegerField()
    conversions_needed = serializers.IntegerField()
    planned_per_variant = serializers.IntegerField(allow_null=True)
    fewest_exposures = serializers.IntegerField()
    share_of_plan = _fraction()


class VerdictSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["not_started", "collecting", "srm", "better", "worse", "no_difference"]
    )
    headline = serializers.CharField()
    conclusive = serializers.BooleanField()
    goal = serializers.CharField(allow_null=True)
    variant = serializers.CharField(allow_null=True)
    uplift = _fraction()
    ci = serializers.ListField(child=serializers.FloatField(allow_null=True), allow_null=True)
    adjusted_p_value = _fraction()
    srm_p_value = _fraction()
    progress = ProgressSerializer(allow_null=True)


class RunSerializer(serializers.Serializer):
    days = _fraction("Days from the start to the last count (or the stop).")
    exposures = serializers.IntegerField()
    exposures_per_day = _fraction()


class LayerSliceSerializer(serializers.Serializer):
    """The experiment's slice of its layer: no other experiment of the layer shares a visitor."""

    key = serializers.CharField()
    name = serializers.CharField()
    start = _fraction("Start of the slice of the layer's visitors, 0-1.")
    end = _fraction("End of the slice (excluded), 0-1.")


class ExperimentSummarySerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    analysis = serializers.ChoiceField(choices=["sequential", "fixed"])
    alpha = serializers.FloatField()
    planned_sample_size = serializers.IntegerField(allow_null=True)
    cuped_window_days = serializers.IntegerField()
    started_at = serializers.CharField(allow_null=True)
    stopped_at = serializers.CharField(allow_null=True)
    winner = serializers.CharField(allow_null=True)
    allocation = serializers.ChoiceField(choices=["fixed", "bandit"])
    layer = LayerSliceSerializer(allow_null=True)


class GuardrailRowSerializer(ResultRowSerializer):
    """One variant on a guardrail goal: the one-sided test for harm (sequential, absolute
    difference; `uplift` is the relative change), adjusted by Holm over the guardrails only."""

    bound = _fraction("One-sided bound of the difference of rates, on the side of no harm.")
    harmful = serializers.BooleanField()
    verdict = serializers.ChoiceField(choices=["collecting", "harm", "no_harm"], allow_null=True)


class GuardrailGoalSerializer(GoalRefSerializer):
    harm_direction = serializers.ChoiceField(choices=["increase", "decrease"])


class GuardrailTableSerializer(serializers.Serializer):
    goal = GuardrailGoalSerializer()
    segment_id = serializers.IntegerField(allow_null=True, help_text="Always null (overall).")
    variants = GuardrailRowSerializer(many=True)
    srm = SrmSerializer(allow_null=True, help_text="Null: see the primary goal's table.")


class GuardrailHarmSerializer(serializers.Serializer):
    goal_id = serializers.IntegerField()
    goal = serializers.CharField()
    harm_direction = serializers.ChoiceField(choices=["increase", "decrease"])
    variant = serializers.CharField()
    control_rate = _fraction()
    rate = _fraction()
    uplift = _fraction("Relative change against the control.")
    abs_uplift = _fraction("Difference of rates.")
    bound = _fraction()
    p_value = _fraction("One-sided, for harm.")
    adjusted_p_value = _fraction("Holm over the guardrail comparisons.")


class GuardrailAlertSerializer(serializers.Serializer):
    goal = serializers.CharField()
    variant = serializers.CharField()
    detected_at = serializers.CharField()
    p_value = serializers.FloatField()
    uplift = serializers.FloatField()
    paused = serializers.BooleanField()
    notified_at = serializers.CharField(allow_null=True)


class GuardrailsSerializer(serializers.Serializer):
    """Guardrail goals, apart from the report's family and verdict (experiments.guardrails)."""

    alpha = serializers.FloatField()
    correction = CorrectionSerializer()
    goals = GuardrailTableSerializer(many=True)
    harm = GuardrailHarmSerializer(many=True, help_text="Significant harms now: the red banner.")
    alerts = GuardrailAlertSerializer(many=True, help_text="Harms the periodic check recorded.")


class BanditReweightingSerializer(serializers.Serializer):
    computed_at = serializers.CharField()
    phase = serializers.ChoiceField(choices=["burn-in", "thompson"])
    weights = serializers.DictField(child=serializers.FloatField(), help_text="Variant: 0-1.")
    exposures = serializers.DictField(child=serializers.IntegerField())
    conversions = serializers.DictField(child=serializers.IntegerField())


class BanditSerializer(serializers.Serializer):
    """A bandit's settings, current weights and chance to be best (primary goal), and every
    reweighting. Its pooled rates, uplifts and p-values are biased by the changing weights."""

    burn_in = serializers.IntegerField(help_text="Exposures per variant before reweighting.")
    floor = _fraction("The smallest weight any variant keeps.")
    interval_minutes = serializers.IntegerField()
    updated_at = serializers.CharField(allow_null=True)
    weights = serializers.DictField(child=serializers.FloatField())
    chance_to_be_best = serializers.DictField(child=serializers.FloatField(), allow_null=True)
    history = BanditReweightingSerializer(many=True)


class ExperimentReportSerializer(serializers.Serializer):
    """Everything the admin report shows, with the same figures (fractions, not percentages)."""

    experiment = ExperimentSummarySerializer()
    computed_at = serializers.CharField(allow_null=True)
    verdict = VerdictSerializer()
    run = RunSerializer()
    correction = CorrectionSerializer()
    goals = ResultsTableSerializer(many=True)
    segments = SegmentResultsSerializer(many=True)
    series = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField()),
        help_text="Per variant: [day, cumulative conversion rate of the primary goal].",
    )
    bandit = BanditSerializer(allow_null=True, help_text="Null for fixed weights.")
    guardrails = GuardrailsSerializer()


# MEMBERS' API TOKENS
# ------------------------------------------------------------------------------


class AuthTokenRequestSerializer(serializers.Serializer):
    username = StorableCharField(max_length=150, help_text="The member's email address.")
    password = StorableCharField(max_length=128, style={"input_type": "password"})


class AuthTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Send it as "Authorization: Token <token>".')
