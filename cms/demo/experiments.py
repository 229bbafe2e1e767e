"""The demo experiment: a running A/B test of the home page's hero."""

from __future__ import annotations

from django.db import transaction

from cms.models import HomePage
from experiments.models import Experiment, ExperimentStatus, Goal, GoalKind, Variant

HERO_VARIANT = {
    "hero_title": "Food, care and play your pet will love",
    "hero_text": "Free to join: member prices from day one and a vet to answer your questions.",
    "hero_cta_label": "Join the club",
}


@transaction.atomic
def ensure_demo_experiment(home: HomePage):
    """A running page-level test of the home page's hero: control (live) vs a new headline,
    measured on sign-ups, with visits to the Members area as a secondary goal."""
    experiment = Experiment.objects.filter(key="home-hero").first()
    if experiment is not None:
        return experiment
    home = HomePage.objects.get(pk=home.pk)
    draft = home.get_latest_revision_as_object()
    for field, value in HERO_VARIANT.items():
        setattr(draft, field, value)
    revision = draft.save_revision()
    experiment = Experiment(
        key="home-hero",
        name="Home hero headline",
        hypothesis="A headline about what members get wins more sign-ups than a generic one.",
        page=home,
        coverage=1.0,
    )
    experiment.variants = [
        Variant(name="control", weight=0.5, sort_order=0),
        Variant(name="member-benefits", weight=0.5, revision=revision, sort_order=1),
    ]
    experiment.goals = [
        Goal(
            name="Sign-up", is_primary=True, kind=GoalKind.EVENT, event_type="sign_up", sort_order=0
        ),
        Goal(
            name="Visited the Members area",
            kind=GoalKind.PAGE_VISIT,
            page=home.get_children().get(slug="members"),
            sort_order=1,
        ),
    ]
    experiment.save()
    experiment.status = ExperimentStatus.DRAFT
    experiment.start()
    return experiment
