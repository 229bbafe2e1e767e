"""Personalization holdouts (issue 16 §4): a share of the visitors a segment matches is served
the default content instead of the segment's variant, so "is personalization working?" has a
measured answer.

A holdout is an Experiment of kind "holdout" with two variants: the control "default" (its
weight is the held-out share) and "personalized". It is bucketed like any experiment (its own
hash seed, sticky once stored) and counted like one (exposures, conversions, aggregates,
sequential statistics), so this module only adds the decision on the serving path and the two
writes that keep a holdout's variants and key in shape. Per segment, or globally (no segment):
a segment's own holdout wins over the global one.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from experiments.models import Experiment, ExperimentKind, Variant
from experiments.registry import ExperimentSpec, running_experiments
from experiments.services import variant_for
from personalization.resolver import resolve

DEFAULT_ARM = "default"
PERSONALIZED_ARM = "personalized"
GLOBAL_KEY = "holdout-all"
MAX_SHARE = 0.5


# SERVING
# ------------------------------------------------------------------------------


def holdout_for(segment_id: int | None) -> ExperimentSpec | None:
    """The running holdout that applies to visitors matched to `segment_id`: the segment's own,
    else the global one (no query: the registry is in-process)."""
    holdouts = running_experiments().holdouts
    if not holdouts:
        return None
    return holdouts.get(segment_id) or holdouts.get(None)


def held_out(request, segment_id: int) -> bool:
    """Whether this request's visitor, matched to `segment_id`, sees the default content instead
    of the segment's variant. The one decision the site, the API and every render path share.

    Asking is the decision point: the visitor is bucketed (stored assignment first, else the
    holdout's own hash) and their exposure to whichever arm is queued, once. Previews never hold
    out, and a visitor without personalization consent is neither bucketed nor counted (they
    see default content anyway, as the resolver matches no segment for them)."""
    if request is None or getattr(request, "is_preview", False):
        return False
    if not getattr(request, "personalization_consent", True):
        return False
    spec = holdout_for(segment_id)
    if spec is None or resolve(request).preview:
        return False
    choice = variant_for(request, spec.key)
    return choice is not None and choice.counted and choice.variant.id == spec.control.id


# WRITES (THE ADMIN'S FORM)
# ------------------------------------------------------------------------------


def holdout_key(segment) -> str:
    """`holdout-<segment slug>`, or `holdout-all` for the global holdout; made unique against
    other experiments' keys with a number."""
    base = GLOBAL_KEY if segment is None else f"holdout-{slugify(segment.slug or segment.pk)}"
    base = base[:60]
    key, number = base, 2
    while Experiment.objects.filter(key=key).exists():
        key, number = f"{base}-{number}", number + 1
    return key


@transaction.atomic
def holdout_variants_set(*, experiment: Experiment, share: float) -> None:
    """Give a holdout its two arms, "default" (the control, weight `share`) and "personalized"
    (1 − share); on a holdout that has them, change only the weights (visitors already bucketed
    keep their arm: the stored assignment wins)."""
    if experiment.kind != ExperimentKind.HOLDOUT:
        raise ValueError("Only a holdout has default and personalized arms.")
    if not 0 < share <= MAX_SHARE:
        raise ValueError("The held-out share is more than 0 and at most 50 %.")
    arms = [(DEFAULT_ARM, share), (PERSONALIZED_ARM, 1 - share)]
    for order, (name, weight) in enumerate(arms):
        Variant.objects.update_or_create(
            experiment=experiment, name=name, defaults={"weight": weight, "sort_order": order}
        )


def holdout_share(experiment: Experiment) -> float | None:
    """The held-out share (the "default" arm's weight), or None before the arms exist."""
    for variant in experiment.variants.all():
        if variant.name == DEFAULT_ARM:
            return variant.weight
    return None
