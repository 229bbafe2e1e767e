"""Journey rules besides cart abandonment: quiet hours, the segment filter, the weekly cap,
time triggers (no visit for 60 days, N days after a first purchase), on-site messages shown
once on the next page view, and conversions within the attribution window."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from freezegun import freeze_time

from personalization.journeys.engine import journeys_evaluate
from personalization.journeys.models import (
    EntryStatus,
    Journey,
    JourneyEntry,
    JourneyStatus,
    JourneyStep,
    MessagingSettings,
    StepAction,
    TimeUnit,
    TriggerKind,
)
from personalization.journeys.reports import journey_report
from personalization.models import Consent, Segment, Visitor
from tests.factories import MemberFactory
from tests.journeys.helpers import MORNING, TOKYO, shopper, track
from tests.personalization.helpers import browse_as

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def only_these_journeys():
    """The demo's journeys are paused so each test sees only the journey it makes."""
    Journey.objects.update(status=JourneyStatus.PAUSED)


def journey(name: str, steps: list[dict], **fields) -> Journey:
    fields = {
        "trigger": TriggerKind.EVENT,
        "trigger_event": "sign_up",
        "status": JourneyStatus.ACTIVE,
        **fields,
    }
    made = Journey.objects.create(name=name, **fields)
    for order, step in enumerate(steps):
        JourneyStep.objects.create(journey=made, sort_order=order, **step)
    return made


def on_site(text: str = "Hello {{ name }}!", **fields) -> dict:
    return {"action": StepAction.ON_SITE, "message_title": "Hi", "message_text": text, **fields}


def test_a_step_due_in_quiet_hours_waits_until_they_end():
    reminder = Journey.objects.get(name="Cart abandonment")
    reminder.status = JourneyStatus.ACTIVE
    reminder.save()
    visitor = shopper()
    evening = MORNING.replace(hour=20, minute=30)
    with freeze_time(evening) as clock:
        track(visitor, "add_to_cart", sku="litter-7l", price=1800)
        clock.tick(2 * HOUR + datetime.timedelta(minutes=1))  # 22:31, quiet
        assert journeys_evaluate()["deferred"] == 1
        assert mail.outbox == []
        entry = JourneyEntry.objects.get(journey=reminder)
        assert entry.next_run_at.astimezone(TOKYO) == (evening + DAY).replace(hour=8, minute=0)
        clock.move_to((evening + DAY).replace(hour=8, minute=1))
        journeys_evaluate()
    assert len(mail.outbox) == 1


def test_visitors_outside_the_segment_leave_the_journey():
    dog_people = Segment.objects.create(
        name="Journey dog people", slug="journey-dog-people", condition={"traits.name": "Rex"}
    )
    welcome = journey("Welcome dogs", [on_site()], segment=dog_people)
    cat_person, dog_person = shopper(), shopper(email="dog@example.com")
    dog_person.traits = {"name": "Rex"}
    dog_person.save()
    with freeze_time(MORNING):
        track(cat_person, "sign_up")
        track(dog_person, "sign_up")
        journeys_evaluate()
    statuses = dict(JourneyEntry.objects.filter(journey=welcome).values_list("visitor", "status"))
    assert statuses == {cat_person.pk: EntryStatus.EXITED, dog_person.pk: EntryStatus.DONE}


def test_the_weekly_cap_counts_messages_of_every_journey():
    settings = MessagingSettings.load()
    settings.max_per_day, settings.max_per_week = 0, 2
    settings.save()
    journey("First", [on_site()])
    journey("Second", [on_site()], trigger_event="goal")
    journey("Third", [on_site()], trigger_event="checkout")
    visitor = shopper()
    with freeze_time(MORNING) as clock:
        for type_ in ("sign_up", "goal", "checkout"):
            track(visitor, type_)
            journeys_evaluate()
            clock.tick(DAY)
    outcomes = list(
        JourneyEntry.objects.filter(visitor=visitor)
        .order_by("journey__name")
        .values_list("journey__name", "messages__status")
    )
    assert outcomes == [("First", "sent"), ("Second", "sent"), ("Third", "suppressed_cap")]


def test_steps_follow_each_other_after_their_delays():
    series = journey(
        "Welcome series",
        [on_site("one"), on_site("two", delay_amount=2, delay_unit=TimeUnit.DAYS)],
    )
    visitor = shopper()
    with freeze_time(MORNING) as clock:
        track(visitor, "sign_up")
        journeys_evaluate()
        clock.tick(DAY)
        journeys_evaluate()
        entry = JourneyEntry.objects.get(journey=series)
        assert (entry.next_step, entry.status) == (1, EntryStatus.WAITING)
        clock.tick(DAY + HOUR)
        journeys_evaluate()
    entry.refresh_from_db()
    assert entry.status == EntryStatus.DONE
    assert [m.body for m in entry.messages.order_by("created_at")] == ["one", "two"]


def test_members_who_stop_visiting_enter_after_sixty_days():
    welcome_back = Journey.objects.get(name="Welcome back")
    welcome_back.status = JourneyStatus.ACTIVE
    welcome_back.save()
    visitor = shopper()
    with freeze_time(MORNING) as clock:
        track(visitor, "page_view")
        clock.tick(59 * DAY)
        journeys_evaluate()
        assert not JourneyEntry.objects.filter(journey=welcome_back).exists()
        clock.tick(DAY + HOUR)
        journeys_evaluate()
        journeys_evaluate()  # entered once, however often it is evaluated
    entry = JourneyEntry.objects.get(journey=welcome_back)
    assert entry.messages.get().subject == "Welcome back, Mika!"


@pytest.mark.parametrize("opt_in", [False, True], ids=["analytics by default", "opt-in"])
def test_members_whose_visits_are_not_recorded_never_look_dormant(settings, opt_in):
    settings.CONSENT_DEFAULTS = {**settings.CONSENT_DEFAULTS, "analytics": not opt_in}
    welcome_back = Journey.objects.get(name="Welcome back")
    welcome_back.status = JourneyStatus.ACTIVE
    welcome_back.save()
    withheld = shopper(email="private@example.com")
    Consent.objects.filter(user=withheld.user).update(analytics=False)
    unchosen = MemberFactory(email="unchosen@example.com", username="unchosen@example.com")
    unchosen = Visitor.objects.create(user=unchosen)
    counted = shopper(email="counted@example.com")  # analytics as the default says
    Consent.objects.filter(user=counted.user).update(analytics=True)
    with freeze_time(MORNING) as clock:
        Visitor.objects.update(last_seen_at=MORNING)  # their last recorded visit
        clock.tick(61 * DAY)
        journeys_evaluate()
    entered = set(
        JourneyEntry.objects.filter(journey=welcome_back).values_list("visitor", flat=True)
    )
    assert withheld.pk not in entered and counted.pk in entered
    assert (unchosen.pk in entered) is not opt_in


def test_the_first_purchase_follow_up_comes_fourteen_days_later():
    follow_up = Journey.objects.get(name="First purchase follow-up")
    follow_up.status = JourneyStatus.ACTIVE
    follow_up.save()
    visitor = shopper()
    with freeze_time(MORNING) as clock:
        track(visitor, "purchase", amount=3000)
        clock.tick(13 * DAY)
        journeys_evaluate()
        assert mail.outbox == []
        clock.tick(DAY + HOUR)
        journeys_evaluate()
    assert [m.subject for m in mail.outbox] == ["How is it going, Mika?"]


def test_an_on_site_message_shows_once_on_the_next_page_view(client):
    journey("Hello on site", [on_site("Your welcome gift is ready, {{ name }}.")])
    visitor = shopper()
    client.force_login(visitor.user)
    browse_as(client, visitor)
    with freeze_time(MORNING) as clock:
        track(visitor, "sign_up")
        journeys_evaluate()
        clock.tick(HOUR)
        first = client.get("/").content.decode()
        again = client.get("/").content.decode()
    assert "Your welcome gift is ready, Mika." in first
    assert "Your welcome gift is ready" not in again


def test_the_notification_block_shows_the_message_where_the_editor_put_it(rf):
    from django.contrib.auth.models import AnonymousUser

    from cms.notification_blocks import NotificationBlock

    journey("Block message", [on_site("In the slot.")])
    visitor = shopper()
    block = NotificationBlock()
    value = block.to_python({"link_label": "Open", "fallback": "<p>Nothing new.</p>"})

    def page_view() -> str:
        request = rf.get("/")
        request.user, request.visitor, request.visitor_uuid = AnonymousUser(), visitor, visitor.uuid
        return block.render(value, context={"request": request})

    with freeze_time(MORNING):
        track(visitor, "sign_up")
        journeys_evaluate()
        first, second = page_view(), page_view()
    assert "In the slot." in first and 'data-slot="block"' in first
    assert "Nothing new." in second


def test_a_goal_after_a_message_counts_as_a_conversion_of_the_journey_and_step():
    reminder = journey("Convert me", [on_site()], trigger_event="add_to_cart", attribution_days=3)
    visitor, late = shopper(), shopper(email="late@example.com")
    with freeze_time(MORNING) as clock:
        track(visitor, "add_to_cart", sku="a")
        track(late, "add_to_cart", sku="a")
        journeys_evaluate()
        clock.tick(DAY)
        track(visitor, "purchase", amount=100)
        clock.tick(3 * DAY)
        track(late, "purchase", amount=100)  # after the attribution window
    report = journey_report(journey=reminder)
    assert (report.entered, report.messaged, report.converted) == (2, 2, 1)
    assert report.steps[0].converted == 1
