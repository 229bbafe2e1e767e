"""Goal matching runs once per stored batch: events no goal can match cost no query, and the
exposures of a whole batch are read in one query, however many events it holds."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from experiments.models import Conversion, Experiment, Exposure
from personalization.events.models import EventType
from personalization.events.services import event_payload, events_ingest
from personalization.models import Visitor

pytestmark = pytest.mark.django_db


def exposed(count: int) -> list[Visitor]:
    experiment = Experiment.objects.get(key="home-hero")
    variant = experiment.variants.get(name="member-benefits")
    visitors = [Visitor.objects.create() for _ in range(count)]
    Exposure.objects.bulk_create(
        Exposure(
            experiment=experiment,
            variant=variant,
            visitor=visitor,
            exposed_at=timezone.now() - datetime.timedelta(minutes=5),
        )
        for visitor in visitors
    )
    return visitors


def test_a_batch_of_events_no_goal_can_match_costs_no_goal_query(django_assert_max_num_queries):
    from experiments.registry import running_experiments
    from experiments.services import conversions_for_events
    from personalization.events.models import Event

    visitors = exposed(3)
    events = [
        Event(visitor=v, type=EventType.ADD_TO_CART, occurred_at=timezone.now()) for v in visitors
    ]
    running_experiments()  # the registry is loaded once per process, not per batch
    with django_assert_max_num_queries(0):
        assert conversions_for_events(stored=[(e, e.visitor) for e in events * 50]) == 0


def test_a_batch_converts_every_exposed_visitor_exactly_once():
    visitors = exposed(40)
    payloads = [
        event_payload(visitor_uuid=v.uuid, type=EventType.SIGN_UP) for v in visitors for _ in (1, 2)
    ]
    events_ingest(payloads=payloads)
    assert Conversion.objects.filter(visitor__in=visitors, goal__name="Sign-up").count() == 40
