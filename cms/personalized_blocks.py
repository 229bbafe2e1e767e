"""Blocks whose content depends on the visitor: per-segment variants, a greeting, a two-field
profile form and frequency-capped offers. Each block chooses from `resolve(request)` (computed
once per request), so the site and the API choose the same content."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import blocks
from wagtail.blocks.list_block import ListBlockValidationError, ListValue
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.images.blocks import ImageChooserBlock

from cms.blocks import (
    RICH_TEXT_FEATURES,
    CallToActionBlock,
    HeadingBlock,
    ImageBlock,
    LinkTargetBlock,
    QuoteBlock,
)
from cms.experiment_blocks import EXPERIMENT_SELECT_ATTRS, VariantChoiceBlock
from cms.holes import filler, recording_in
from cms.notification_blocks import NotificationBlock
from cms.product_blocks import ProductListBlock
from cms.recommendation_blocks import RecommendationsBlock
from personalization.choices import PetType
from personalization.events.models import EventType
from personalization.events.services import event_payload, events_track
from personalization.resolver import Resolution, resolve

# The block picker's groups: per-visitor blocks together, under their own heading.
PERSONALIZATION_GROUP = gettext_lazy("Personalization")
EXPERIMENTS_GROUP = gettext_lazy("Experiments")


def segment_choices() -> list[tuple[str, str]]:
    """Segments for the editor's dropdown (read when the form is drawn), with their priority:
    a collapsed variant's header shows this label ("For: Dog people · priority 35"), and the
    priority decides between the variants of a visitor in several segments."""
    from personalization.models import Segment

    segments = Segment.objects.order_by("name").values_list("pk", "name", "priority")
    return [
        (str(pk), _("%(name)s · priority %(priority)s") % {"name": name, "priority": priority})
        for pk, name, priority in segments
    ]


def request_resolution(context) -> Resolution | None:
    request = (context or {}).get("request")
    return resolve(request) if request is not None else None


class GreetingBlock(blocks.StructBlock):
    """Greets by the declared or member name, with a picture of the visitor's kind of pet.

    The block's greeting ("Welcome back, {name}!") is for a returning visitor (a later visit,
    `is_new` false); a first-visit visitor whose name we know reads "Hello, name!", and one
    whose name we don't know the anonymous greeting."""

    greeting = blocks.CharBlock(
        max_length=120,
        default="Welcome back, {name}!",
        help_text=gettext_lazy("{name} is replaced by the visitor's name."),
        label=gettext_lazy("Greeting"),
    )
    anonymous_greeting = blocks.CharBlock(
        max_length=120,
        default="Welcome to Pawprint Club",
        help_text=gettext_lazy("Shown when we don't know the visitor's name."),
        label=gettext_lazy("Anonymous greeting"),
    )
    dog_image = ImageChooserBlock(required=False, label=gettext_lazy("Dog image"))
    cat_image = ImageChooserBlock(required=False, label=gettext_lazy("Cat image"))
    other_image = ImageChooserBlock(
        required=False,
        help_text=gettext_lazy("For other pets, or no pet."),
        label=gettext_lazy("Other image"),
    )

    class Meta:
        label = gettext_lazy("Greeting")
        icon = "user"
        group = PERSONALIZATION_GROUP
        template = "blocks/greeting_block.html"

    hole_kind = "greeting"  # per visitor: a hole in the render cache's shared body

    @staticmethod
    def greeting_for(value, resolution: Resolution | None) -> dict:
        """The greeting of a block value (or of its settings as a plain dict) for a visitor."""
        attributes = resolution.attributes if resolution else {}
        traits = attributes.get("traits") or {}
        name, pet = traits.get("name"), traits.get("pet")
        if not name:
            text = value["anonymous_greeting"]
        elif attributes.get("is_new", True):
            # The block's greeting says "welcome back": only for a visitor on a later visit.
            text = _("Hello, %(name)s!") % {"name": name}
        else:
            text = value["greeting"].replace("{name}", name)
        image = {"dog": value.get("dog_image"), "cat": value.get("cat_image")}.get(pet) or (
            value.get("other_image") if pet else None
        )
        return {"text": text, "name": name, "pet": pet, "image": image}

    def choose(self, value, resolution: Resolution | None) -> dict:
        return self.greeting_for(value, resolution)

    def render(self, value, context=None):
        recording = recording_in(context)
        if recording is None:
            return super().render(value, context)
        settings = {name: value.get(name) for name in self.child_blocks}
        return recording.placeholder(self.hole_kind, settings)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["greeting"] = self.choose(value, request_resolution(parent_context))
        return context


class ProfileFormBlock(blocks.StructBlock):
    """Asks an anonymous visitor two things (name, pet); the answers become traits at once."""

    heading = blocks.CharBlock(
        max_length=120, default="Tell us about your pet", label=gettext_lazy("Heading")
    )
    text = blocks.TextBlock(
        required=False,
        max_length=300,
        default="Two quick questions and we'll show you what fits.",
        label=gettext_lazy("Text"),
    )
    button_label = blocks.CharBlock(
        max_length=40, default="Show me", label=gettext_lazy("Button label")
    )

    class Meta:
        label = gettext_lazy("Profile form")
        icon = "form"
        group = PERSONALIZATION_GROUP
        template = "blocks/profile_form_block.html"

    hole_kind = "profile_form"  # shown until this visitor has answered it

    @staticmethod
    def answered(request) -> bool:
        """Whether the request's visitor has told us their name and pet."""
        resolution = resolve(request) if request is not None else None
        traits = (resolution.attributes.get("traits") if resolution else None) or {}
        return bool(traits.get("name") and traits.get("pet"))

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["known"] = self.answered((parent_context or {}).get("request"))
        context["pet_choices"] = PetType.choices
        return context

    def render(self, value, context=None):
        recording = recording_in(context)
        if recording is None:
            return super().render(value, context)
        form = {**self.get_context(value, parent_context=context), "known": False}
        html = render_to_string(self.meta.template, form)
        return recording.placeholder(self.hole_kind, {"html": html})


class LazyVariantStream(blocks.StreamBlock):
    """A stream a request shows only sometimes (one segment's variant among several, one arm
    of an experiment, an offer's fallback once capped): it stays raw until it is read, so a
    page with ten variants fetches the images and pages of the one it shows, not of all ten.
    Wagtail converts a StreamField's top-level blocks lazily already; nested streams it
    converts eagerly."""

    def bulk_to_python(self, values):
        return [self.to_python(value) for value in values]


class OfferFallbackStream(LazyVariantStream):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        features=RICH_TEXT_FEATURES, icon="pilcrow", label=gettext_lazy("Paragraph")
    )
    call_to_action = CallToActionBlock()


class OfferBlock(blocks.StructBlock):
    """A promotional offer shown at most N times per visitor per day or week, then its fallback."""

    offer_key = blocks.RegexBlock(
        regex=r"^[a-z0-9][a-z0-9-]{0,63}$",
        error_messages={"invalid": "Use lower-case letters, digits and hyphens."},
        help_text=gettext_lazy(
            "Names the offer for counting impressions, e.g. summer-litter-sale."
        ),
        label=gettext_lazy("Offer key"),
    )
    title = blocks.CharBlock(max_length=120, label=gettext_lazy("Title"))
    text = blocks.TextBlock(required=False, max_length=500, label=gettext_lazy("Text"))
    image = ImageChooserBlock(required=False, label=gettext_lazy("Image"))
    button_label = blocks.CharBlock(
        max_length=40, default="See the offer", label=gettext_lazy("Button label")
    )
    link = LinkTargetBlock(label=gettext_lazy("Link"))
    cap = blocks.IntegerBlock(
        min_value=0,
        max_value=1000,
        default=3,
        help_text=gettext_lazy(
            "Show at most this many times per visitor per period (0 = no limit)."
        ),
        label=gettext_lazy("Cap"),
    )
    cap_period = blocks.ChoiceBlock(
        choices=[("day", gettext_lazy("per day")), ("week", gettext_lazy("per week"))],
        default="day",
        label=gettext_lazy("Cap period"),
    )
    fallback = OfferFallbackStream(
        required=False,
        help_text=gettext_lazy("Shown once the cap is reached."),
        label=gettext_lazy("Fallback"),
    )

    class Meta:
        label = gettext_lazy("Offer")
        icon = "tag"
        group = PERSONALIZATION_GROUP
        template = "blocks/offer_block.html"

    hole_kind = "offer"  # the offer or its fallback, by this visitor's impressions

    @staticmethod
    def shown_count(value, resolution: Resolution | None, visitor) -> int:
        from django.utils import timezone

        if visitor is None:
            return 0
        entry = (visitor.offer_impressions or {}).get(value["offer_key"]) or {}
        today = timezone.localdate()
        if value["cap_period"] == "week":
            year, number, _ = today.isocalendar()
            week = f"{year}-W{number:02d}"
            return entry.get("week_count", 0) if entry.get("week") == week else 0
        return entry.get("day_count", 0) if entry.get("day") == today.isoformat() else 0

    @classmethod
    def capped_for(cls, value, request) -> bool:
        """Whether this visitor has seen the offer its cap's number of times already (`value`:
        the block's value, or its settings as a plain dict)."""
        if not value["cap"]:
            return False
        visitor = getattr(request, "visitor", None) if request is not None else None
        return cls.shown_count(value, None, visitor) >= value["cap"]

    def capped(self, value, request) -> bool:
        return self.capped_for(value, request)

    @staticmethod
    def record_impression(value, request) -> None:
        if request is None or getattr(request, "is_preview", False):
            return
        user = request.user if request.user.is_authenticated else None
        events_track(
            [
                event_payload(
                    visitor_uuid=request.visitor_uuid,
                    user_id=user.pk if user else None,
                    anonymous=user is None,
                    type=EventType.OFFER_IMPRESSION,
                    name=value["offer_key"],
                )
            ]
        )

    def chosen_content(self, value, request) -> tuple[object, dict]:
        """(fallback stream, meta) once capped, else (None, meta) after counting an impression:
        None means "show the offer itself". Shared by the site and the API."""
        capped = self.capped(value, request)
        if not capped:
            self.record_impression(value, request)
        return (value["fallback"] if capped else None), {
            "offer": value["offer_key"],
            "capped": capped,
        }

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        request = (parent_context or {}).get("request")
        fallback, meta = self.chosen_content(value, request)
        context["capped"] = meta["capped"]
        return context

    def render(self, value, context=None):
        """In a render for the cache: a hole holding both faces of the offer (no impression is
        counted until the hole is filled for a visitor)."""
        recording = recording_in(context)
        if recording is None:
            return super().render(value, context)
        base = blocks.StructBlock.get_context(self, value, parent_context=context)
        settings = {name: value[name] for name in ("offer_key", "cap", "cap_period")}
        return recording.placeholder(
            self.hole_kind,
            {
                "settings": settings,
                "offer_html": render_to_string(self.meta.template, {**base, "capped": False}),
                "fallback_html": render_to_string(self.meta.template, {**base, "capped": True}),
            },
        )


def experiment_choices() -> list[tuple[str, str]]:
    """Experiments for the editor's dropdown (read when the form is drawn); holdouts are not
    tested in blocks, they hold out of segments."""
    from experiments.models import Experiment, ExperimentKind

    tests = Experiment.objects.exclude(kind=ExperimentKind.HOLDOUT).order_by("name")
    return [(key, f"{name} ({key})") for key, name in tests.values_list("key", "name")]


class ExperimentChoiceBlock(blocks.ChoiceBlock):
    """An experiment picked by key; reading a stored value costs no query. Its select tells the
    variant selects beside it which experiment's variants to offer."""

    def __init__(self, **kwargs):
        super().__init__(
            choices=experiment_choices,
            widget=forms.Select(attrs=EXPERIMENT_SELECT_ATTRS),
            **kwargs,
        )

    def normalize_choice(self, value):
        return None if value in (None, "") else str(value)


class ExperimentVariantContentStream(LazyVariantStream):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        features=RICH_TEXT_FEATURES, icon="pilcrow", label=gettext_lazy("Paragraph")
    )
    image = ImageBlock()
    call_to_action = CallToActionBlock()
    quote = QuoteBlock()
    greeting = GreetingBlock()
    offer = OfferBlock()
    recommendations = RecommendationsBlock()


class ExperimentVariantBlock(blocks.StructBlock):
    variant = VariantChoiceBlock(
        help_text=gettext_lazy("One of the experiment's variants (the first is the control)."),
        label=gettext_lazy("Variant"),
    )
    content = ExperimentVariantContentStream()

    class Meta:
        icon = "doc-full"
        label_format = gettext_lazy("Variant: {variant}")


class ExperimentBlock(blocks.StructBlock):
    """An A/B(/n) test of content: one entry per variant of the chosen experiment, each chosen
    from that experiment's own variants (stored by key) and holding its own blocks.

    Saving is refused unless the entries hold exactly the experiment's variants, each once
    (the message names the missing and the extra ones); saved entries follow the experiment's
    order, so the first is its control. Visitors see their assigned variant while the
    experiment runs, the control otherwise; the exposure is recorded when the variant is
    served (site or API), and only where the block holds every variant."""

    experiment = ExperimentChoiceBlock(label=gettext_lazy("Experiment"))
    variants = blocks.ListBlock(ExperimentVariantBlock(), min_num=2, label=gettext_lazy("Variants"))

    class Meta:
        icon = "sliders"
        label = gettext_lazy("A/B test")
        group = EXPERIMENTS_GROUP
        template = "blocks/experiment_block.html"

    def clean(self, value):
        from experiments.usage import experiment_variant_keys, variant_coverage

        cleaned = super().clean(value)
        key = cleaned.get("experiment")
        if not key:
            return cleaned  # only possible while a draft's required fields are deferred
        expected = experiment_variant_keys(key)
        if expected is None:
            raise StructBlockValidationError(
                block_errors={"experiment": ValidationError(_("Choose an experiment."))}
            )
        entries = list(cleaned["variants"].bound_blocks)
        found = [entry.value["variant"] for entry in entries]
        coverage = variant_coverage(expected, found)
        if not coverage.exact:
            raise self._coverage_error(coverage, found)
        entries.sort(key=lambda entry: expected.index(entry.value["variant"]))
        cleaned["variants"] = ListValue(self.child_blocks["variants"], bound_blocks=entries)
        return cleaned

    @staticmethod
    def _coverage_error(coverage, found: list[str]) -> StructBlockValidationError:
        """The difference on the block, and on each entry naming a wrong or repeated variant."""
        entry_errors = {}
        seen = set()
        for index, key in enumerate(found):
            if not key:
                continue  # not chosen yet: its own field says so (or, in a draft, "missing")
            if key in coverage.extra:
                message = _("Not a variant of this experiment.")
            elif key in seen:
                message = _("This variant is already listed above.")
            else:
                seen.add(key)
                continue
            entry_errors[index] = StructBlockValidationError(
                block_errors={"variant": ValidationError(message)}
            )
        return StructBlockValidationError(
            non_block_errors=[
                _("The variants must be exactly the experiment's own: %(diff)s.")
                % {"diff": coverage.describe()}
            ],
            block_errors=(
                {"variants": ListBlockValidationError(block_errors=entry_errors)}
                if entry_errors
                else None
            ),
        )

    def experiment_usage(self, raw) -> tuple[str, list[str]] | None:
        """(experiment key, variant keys in order) of a raw (JSON) value, for the record of
        which pages use which experiment (`experiments.usage`)."""
        if not isinstance(raw, dict) or not raw.get("experiment"):
            return None
        keys = []
        for item in raw.get("variants") or []:
            value = item.get("value", item) if isinstance(item, dict) else {}
            keys.append(str(value.get("variant") or "") if isinstance(value, dict) else "")
        return str(raw["experiment"]), keys

    def choose(self, value, request) -> tuple[object, dict]:
        """(content, meta): the assigned variant's entry while the experiment runs and this
        block holds all its variants, else the first entry (the control), not counted."""
        from experiments.usage import block_variant_for

        entries = list(value["variants"])
        keys = [entry["variant"] for entry in entries]
        choice = (
            block_variant_for(request, experiment_key=value["experiment"], variant_keys=keys)
            if request is not None
            else None
        )
        if choice is not None:
            entry = entries[keys.index(choice.variant.name)]
            return entry["content"], choice.meta
        control = entries[0] if entries else None
        meta = {
            "experiment": value["experiment"],
            "variant": control["variant"] if control else None,
            "counted": False,
        }
        return (control["content"] if control else []), meta

    def chosen_content(self, value, request) -> tuple[object, dict]:
        """The assigned variant's content (shared with the API)."""
        return self.choose(value, request)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["chosen"], context["meta"] = self.choose(
            value, (parent_context or {}).get("request")
        )
        return context


class PersonalizedContentStream(LazyVariantStream):
    """What a per-segment variant (or the default) may hold: any body block."""

    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        features=RICH_TEXT_FEATURES, icon="pilcrow", label=gettext_lazy("Paragraph")
    )
    image = ImageBlock()
    call_to_action = CallToActionBlock()
    quote = QuoteBlock()
    greeting = GreetingBlock()
    profile_form = ProfileFormBlock()
    offer = OfferBlock()
    experiment = ExperimentBlock()
    recommendations = RecommendationsBlock()


class SegmentChoiceBlock(blocks.ChoiceBlock):
    """A segment picked by id. Reading a stored value costs no query: the dropdown's choices are
    only fetched when an editor's form is drawn or validated."""

    def __init__(self, **kwargs):
        super().__init__(choices=segment_choices, **kwargs)

    def normalize_choice(self, value):
        return None if value in (None, "") else str(value)


class SegmentVariantBlock(blocks.StructBlock):
    segment = SegmentChoiceBlock(
        help_text=gettext_lazy("Who sees this variant."), label=gettext_lazy("Segment")
    )
    content = PersonalizedContentStream()

    class Meta:
        icon = "crosshairs"
        # the collapsed header names the segment: "For: Dog people · priority 35"
        label_format = gettext_lazy("For: {segment}")


class PersonalizedBlock(blocks.StructBlock):
    """Per-segment content: the first variant whose segment the visitor is in, else the default.

    When a visitor is in several of the variants' segments, the segment with the highest
    priority wins, then the variant listed first."""

    variants = blocks.ListBlock(SegmentVariantBlock(), min_num=1, label=gettext_lazy("Variants"))
    default = PersonalizedContentStream(
        required=False, help_text="What everyone else sees (may be left empty)."
    )

    class Meta:
        icon = "group"
        label = gettext_lazy("Personalized content")
        group = PERSONALIZATION_GROUP
        template = "blocks/personalized_block.html"

    def segment_ids(self, value) -> set[int]:
        """The segments this block depends on (part of the page's personalization key)."""
        return {int(v["segment"]) for v in value["variants"] if str(v["segment"]).isdigit()}

    def choose(self, value, request) -> tuple[object, dict]:
        """(content, meta) for this request's visitor, shared by the site and the API: the
        variant of their highest-priority matching segment, else the default. A visitor held
        out of that segment (a personalization holdout, `experiments.holdouts`) gets the
        default; meta says which segment decided (`segment`, None for the default) and, when
        held out, which segment they were held out of (`held_out`)."""
        from experiments.holdouts import held_out

        resolution = resolve(request) if request is not None else None
        variant = self.matching_variant(value, resolution)
        if variant is None:
            return value["default"], {"segment": None}
        segment_id = int(variant["segment"])
        if held_out(request, segment_id):
            return value["default"], {"segment": None, "held_out": segment_id}
        return variant["content"], {"segment": segment_id}

    @staticmethod
    def matching_variant(value, resolution: Resolution | None):
        """The first variant of the visitor's highest-priority matching segment, or None."""
        if resolution is None:
            return None
        rank = {sid: i for i, sid in enumerate(resolution.segment_ids)}
        candidates = [
            (rank[int(v["segment"])], index, v)
            for index, v in enumerate(value["variants"])
            if str(v["segment"]).isdigit() and int(v["segment"]) in rank
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda c: (c[0], c[1]))[2]

    def chosen_content(self, value, request) -> tuple[object, dict]:
        """The content this request's visitor sees and what decided it (shared with the API)."""
        return self.choose(value, request)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        chosen, meta = self.choose(value, (parent_context or {}).get("request"))
        context["chosen"], context["chosen_segment"] = chosen, meta["segment"]
        context["held_out"] = meta.get("held_out")
        return context


class BodyStreamBlock(blocks.StreamBlock):
    """The blocks every page body offers, personalized ones included."""

    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        features=RICH_TEXT_FEATURES, icon="pilcrow", label=gettext_lazy("Paragraph")
    )
    image = ImageBlock()
    call_to_action = CallToActionBlock()
    quote = QuoteBlock()
    personalized = PersonalizedBlock()
    greeting = GreetingBlock()
    profile_form = ProfileFormBlock()
    offer = OfferBlock()
    experiment = ExperimentBlock()
    notification = NotificationBlock()
    products = ProductListBlock()
    recommendations = RecommendationsBlock()


# HOLES: EACH PER-VISITOR BLOCK FILLED FOR ONE REQUEST (`cms.holes`)
# ------------------------------------------------------------------------------


@filler(GreetingBlock.hole_kind)
def _fill_greeting(settings: dict, request) -> str:
    greeting = GreetingBlock.greeting_for(settings, resolve(request))
    return render_to_string("blocks/greeting_block.html", {"greeting": greeting})


@filler(ProfileFormBlock.hole_kind)
def _fill_profile_form(payload: dict, request) -> str:
    return "" if ProfileFormBlock.answered(request) else payload["html"]


@filler(OfferBlock.hole_kind)
def _fill_offer(payload: dict, request) -> str:
    """The offer, counting the impression, or its fallback once this visitor is capped."""
    settings = payload["settings"]
    if OfferBlock.capped_for(settings, request):
        return payload["fallback_html"]
    OfferBlock.record_impression(settings, request)
    return payload["offer_html"]
