"""Layers keep experiments mutually exclusive (issue 16 §4), through the real request path: a
page holds A/B blocks of two running experiments of one layer with disjoint slices; many
visitors browse it; no visitor is ever counted in both, each experiment counts about its slice's
share of the visitors, and whoever is not counted sees the control."""

from __future__ import annotations

import random
import uuid

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms.models import ContentPage
from experiments.bucketing import in_namespace
from experiments.models import Experiment, Exposure, Layer
from experiments.usage import experiment_start
from tests.experiments.variant_helpers import ARM_MARKER, ab_block, make_experiment, publish_body
from tests.personalization.helpers import signed_visitor_cookie

pytestmark = pytest.mark.django_db
SLICES = {"hero-copy": (0.0, 0.3), "hero-photo": (0.3, 0.8)}  # 20 % of the layer left free
ARMS = ["control", "b"]


@pytest.fixture
def page():
    """A live page with A/B blocks of the two running experiments of the layer "home"."""
    layer = Layer.objects.create(key="home", name="Home page")
    page = ContentPage.objects.get(slug="choosing-dog-food")
    publish_body(page, [ab_block(key, ARMS) for key in SLICES])
    for key, (start, end) in SLICES.items():
        experiment = make_experiment(key, ARMS)
        Experiment.objects.filter(pk=experiment.pk).update(
            layer=layer, namespace_start=start, namespace_end=end
        )
        experiment.refresh_from_db()
        experiment_start(experiment=experiment)
    return page


def visit(client, page, visitor_uuid: uuid.UUID) -> dict[str, str]:
    """{experiment key: variant whose content was served} for one visit."""
    client.cookies.clear()
    client.cookies[django_settings.VISITOR_COOKIE_NAME] = signed_visitor_cookie(visitor_uuid)
    response = client.get(page.url)
    assert response.status_code == 200
    return dict(ARM_MARKER.findall(response.content.decode()))


def counted(visitors) -> dict[str, dict[uuid.UUID, str]]:
    """Per experiment: visitor → the variant their exposure records."""
    rows = Exposure.objects.filter(visitor__uuid__in=list(visitors)).values_list(
        "experiment__key", "visitor__uuid", "variant__name"
    )
    found: dict[str, dict[uuid.UUID, str]] = {key: {} for key in SLICES}
    for key, visitor, variant in rows:
        found[key][visitor] = variant
    return found


def check_exclusive(seen: dict[uuid.UUID, dict[str, str]]) -> dict[str, dict[uuid.UUID, str]]:
    exposures = counted(seen)
    both = exposures["hero-copy"].keys() & exposures["hero-photo"].keys()
    assert not both, f"visitors counted in two experiments of one layer: {sorted(both)[:5]}"
    for visitor, shown in seen.items():
        assert set(shown) == set(SLICES)  # both blocks rendered
        for key, (start, end) in SLICES.items():
            inside = in_namespace(str(visitor), ("home", start, end))
            if visitor in exposures[key]:
                assert inside and shown[key] == exposures[key][visitor], (visitor, key)
            else:
                assert not inside and shown[key] == "control", (visitor, key)
    return exposures


def test_many_visitors_each_counted_in_at_most_one_experiment_of_the_layer(client, page, run_jobs):
    rng = random.Random(16)
    visitors = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(600)]
    with run_jobs():
        seen = {visitor: visit(client, page, visitor) for visitor in visitors}
    exposures = check_exclusive(seen)
    for key, (start, end) in SLICES.items():
        share = len(exposures[key]) / len(visitors)
        # the slice's width, within about four standard errors (about ±0.08 at 600 visitors)
        assert share == pytest.approx(end - start, abs=0.08), (key, share)
    nobody = len(visitors) - sum(len(v) for v in exposures.values())
    assert nobody / len(visitors) == pytest.approx(0.2, abs=0.07)  # the free fifth
    # and both variants of each experiment got visitors
    assert all(set(v.values()) == set(ARMS) for v in exposures.values())


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(visitors=st.lists(st.uuids(version=4), min_size=1, max_size=8, unique=True))
def test_any_visitors_on_repeat_visits_never_share_two_experiments_of_a_layer(
    client, page, run_jobs, visitors
):
    with run_jobs():
        first = {visitor: visit(client, page, visitor) for visitor in visitors}
        again = {visitor: visit(client, page, visitor) for visitor in reversed(visitors)}
    assert again == first  # sticky
    check_exclusive(first)
