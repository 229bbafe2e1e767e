"""Catalogue-triggered journeys, driven by the shop's feed (POST /api/v1/products/) or a
product's save, with a frozen clock and a real RQ worker on Redis (inline jobs without it):
a favourite's stock falling to the threshold, coming back in stock, or getting X % cheaper sends
each member who favourited it one email listing every product that fired in the batch — within
the caps and only with marketing consent; anonymous favouriters get nothing. The product links
are tracked: opening one counts in the journey report, as do purchases within 7 days."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from freezegun import freeze_time
from rq import SimpleWorker

from personalization.commerce.models import Favourite, Product
from personalization.journeys.catalogue import journeys_on_catalogue
from personalization.journeys.engine import journeys_evaluate
from personalization.journeys.models import (
    CATALOGUE_TRIGGERS,
    EmailTemplate,
    EntryStatus,
    Journey,
    JourneyEntry,
    JourneyMessage,
    JourneyStatus,
    JourneyStep,
    MessageStatus,
)
from personalization.journeys.reports import journey_report
from personalization.models import Visitor
from tests.api.helpers import api_as
from tests.journeys.helpers import MORNING, shopper, track

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)
JOB = "personalization.journeys.jobs.catalogue_changed"
LINK = re.compile(r"https?://\S+/journeys/link/\S+/")
BODY = (
    "{% for p in products %}- {{ p.name }} ({{ p.sku }}): ¥{{ p.price }}"
    "{% if p.old_price %} (was ¥{{ p.old_price }}){% endif %}, {{ p.stock }} left: {{ p.url }}\n"
    "{% endfor %}"
)


@pytest.fixture
def journeys() -> dict[str, Journey]:
    """One active journey per catalogue trigger (the demo's own ones paused), each sending one
    email at once."""
    Journey.objects.filter(trigger__in=CATALOGUE_TRIGGERS).update(status=JourneyStatus.PAUSED)
    made = {}
    for trigger, subject in [
        ("favourite_low_stock", "Almost gone"),
        ("favourite_back", "Back in stock"),
        ("favourite_price_drop", "Price drop"),
    ]:
        template = EmailTemplate.objects.create(
            name=f"Test {subject}", subject=f"{subject}, {{{{ name }}}}", body_text=BODY
        )
        journey = Journey.objects.create(
            name=f"Test {subject}",
            status=JourneyStatus.ACTIVE,
            trigger=trigger,
            stock_threshold=3,
            price_drop_percent=10,
        )
        JourneyStep.objects.create(journey=journey, delay_amount=0, email_template=template)
        made[trigger] = journey
    return made


@pytest.fixture
def shop():
    """The shop's server: the demo's admin's API token."""
    return api_as(user=get_user_model().objects.get(username="admin"))


@pytest.fixture
def batch(django_capture_on_commit_callbacks):
    """`with batch(): <change the catalogue>`: the change commits, its job is queued — exactly
    one per batch — and a real RQ worker runs it (inline without Redis)."""

    @contextmanager
    def runner(jobs: int = 1):
        queue = None if settings.JOBS_INLINE else django_rq.get_queue("default")
        if queue is not None:
            queue.empty()
        with django_capture_on_commit_callbacks(execute=True):
            yield
        if queue is not None:
            ours = [job for job in queue.get_jobs() if job.func_name == JOB]
            assert len(ours) == jobs
            SimpleWorker([queue], connection=queue.connection).work(burst=True)
            failed = queue.failed_job_registry.get_job_ids()
            assert not {job.id for job in ours} & set(failed), "the catalogue job failed"

    return runner


def feed(shop, *items) -> None:
    """The shop sends these items, whole (name and price as it has them)."""
    known = Product.objects.in_bulk([i["sku"] for i in items], field_name="sku")
    body = [
        {
            "name": known[i["sku"]].name,
            "price": known[i["sku"]].price,
            "stock": known[i["sku"]].stock,
            **i,
        }
        if i["sku"] in known
        else i
        for i in items
    ]
    response = shop.post("/api/v1/products/", json.dumps(body), content_type="application/json")
    assert response.status_code in (200, 201), response.content


def product(sku: str, *, price: int = 2000, stock: int = 5, **fields) -> Product:
    return Product.objects.create(
        sku=sku, name=f"Product {sku}", price=price, stock=stock, **fields
    )


def favourite(visitor: Visitor, *products: Product) -> None:
    for item in products:
        Favourite.objects.create(visitor=visitor, product=item, price_when_added=item.price)


def sent_to(address: str) -> list:
    return [email for email in mail.outbox if email.to == [address]]


def test_stock_falling_to_the_threshold_sends_each_favouriter_one_email_listing_both(
    journeys, shop, batch
):
    hanako, taro = shopper(email="hanako@example.org"), shopper(email="taro@example.org")
    food, litter, toy = product("CT-FOOD"), product("CT-LITTER", stock=9), product("CT-TOY")
    favourite(hanako, food, litter, toy)
    favourite(taro, food)
    with freeze_time(MORNING):
        with batch():
            # One feed call lowers two favourites to the threshold (and one not far enough).
            feed(
                shop,
                {"sku": "CT-FOOD", "stock": 2},
                {"sku": "CT-LITTER", "stock": 3},
                {"sku": "CT-TOY", "stock": 4},
            )
        journeys_evaluate()
        journeys_evaluate()  # evaluating again sends nothing more
    [to_hanako], [to_taro] = sent_to("hanako@example.org"), sent_to("taro@example.org")
    assert len(mail.outbox) == 2
    assert to_hanako.subject == "Almost gone, Mika"
    assert "Product CT-FOOD (CT-FOOD): ¥2000, 2 left" in to_hanako.body
    assert "Product CT-LITTER (CT-LITTER): ¥2000, 3 left" in to_hanako.body
    assert "CT-TOY" not in to_hanako.body
    assert "CT-FOOD" in to_taro.body and "CT-LITTER" not in to_taro.body
    assert "/personalization/unsubscribe/" in to_hanako.body
    entry = JourneyEntry.objects.get(journey=journeys["favourite_low_stock"], visitor=hanako)
    assert entry.trigger_context["trigger"] == "favourite_low_stock"
    assert [p["sku"] for p in entry.trigger_context["products"]] == ["CT-FOOD", "CT-LITTER"]
    assert not JourneyEntry.objects.filter(journey__in=[journeys["favourite_back"]]).exists()


def test_a_second_drop_the_same_day_is_held_back_by_the_daily_cap(journeys, shop, batch):
    hanako = shopper(email="hanako@example.org")
    food = product("CT-FOOD")
    favourite(hanako, food)
    with freeze_time(MORNING) as clock:
        with batch():
            feed(shop, {"sku": "CT-FOOD", "stock": 2})
        journeys_evaluate()
        clock.tick(HOUR)
        with batch():
            feed(shop, {"sku": "CT-FOOD", "stock": 20})
        with batch():
            feed(shop, {"sku": "CT-FOOD", "stock": 1})
        journeys_evaluate()
    assert len(mail.outbox) == 1
    held_back = JourneyMessage.objects.get(status=MessageStatus.SUPPRESSED_CAP)
    assert held_back.detail == "day cap reached"
    report = journey_report(journey=journeys["favourite_low_stock"])
    assert (report.entered, report.sent, report.suppressed_cap) == (2, 1, 1)


def test_reaching_zero_is_out_of_stock_not_almost_gone(journeys, shop, batch):
    hanako = shopper(email="hanako@example.org")
    favourite(hanako, product("CT-FOOD"))
    with freeze_time(MORNING):
        with batch():
            feed(shop, {"sku": "CT-FOOD", "stock": 0})
        journeys_evaluate()
    assert mail.outbox == []
    assert not JourneyEntry.objects.filter(visitor=hanako).exists()


def test_a_favourite_back_in_stock_sends_back_in_stock(journeys, shop, batch):
    hanako = shopper(email="hanako@example.org")
    favourite(hanako, product("CT-FOOD", stock=0))
    with freeze_time(MORNING):
        with batch():
            feed(shop, {"sku": "CT-FOOD", "stock": 10})
        journeys_evaluate()
    [email] = mail.outbox
    assert email.subject == "Back in stock, Mika"
    assert "Product CT-FOOD (CT-FOOD): ¥2000, 10 left" in email.body


def test_a_20_percent_price_cut_sends_price_drop_and_a_5_percent_cut_does_not(
    journeys, shop, batch
):
    hanako = shopper(email="hanako@example.org")
    food, toy = product("CT-FOOD", price=2000), product("CT-TOY", price=1000)
    favourite(hanako, food, toy)
    with freeze_time(MORNING):
        with batch():
            feed(shop, {"sku": "CT-FOOD", "price": 1600}, {"sku": "CT-TOY", "price": 950})
        journeys_evaluate()
    [email] = mail.outbox
    assert email.subject == "Price drop, Mika"
    assert "Product CT-FOOD (CT-FOOD): ¥1600 (was ¥2000), 5 left" in email.body
    assert "CT-TOY" not in email.body


def test_exactly_the_percentage_fires_and_one_yen_less_of_a_cut_does_not(journeys):
    hanako = shopper(email="hanako@example.org")
    food, toy = product("CT-FOOD", price=1000), product("CT-TOY", price=1000)
    favourite(hanako, food, toy)
    food.price, toy.price = 900, 901
    food.save()
    toy.save()
    changes = [food.changes.last().pk, toy.changes.last().pk]
    assert journeys_on_catalogue(change_ids=changes) == 1
    entry = JourneyEntry.objects.get(visitor=hanako)
    assert [p["sku"] for p in entry.trigger_context["products"]] == ["CT-FOOD"]
    assert journeys_on_catalogue(change_ids=changes) == 0  # the same batch again: no new entry


def test_a_change_saved_in_the_admin_triggers_too(journeys, batch):
    hanako = shopper(email="hanako@example.org")
    food = product("CT-FOOD", stock=0)
    favourite(hanako, food)
    with freeze_time(MORNING):
        with batch():
            food.stock = 4
            food.save()
        journeys_evaluate()
    [email] = mail.outbox
    assert email.subject == "Back in stock, Mika"


def test_a_member_without_marketing_consent_gets_nothing(journeys, shop, batch):
    hanako = shopper(email="hanako@example.org", marketing=False)
    favourite(hanako, product("CT-FOOD"))
    with freeze_time(MORNING):
        with batch():
            feed(shop, {"sku": "CT-FOOD", "stock": 1})
        journeys_evaluate()
    assert mail.outbox == []
    entry = JourneyEntry.objects.get(visitor=hanako)
    assert entry.status == EntryStatus.SUPPRESSED
    report = journey_report(journey=journeys["favourite_low_stock"])
    assert (report.sent, report.suppressed_consent) == (0, 1)


def test_anonymous_favouriters_get_nothing(journeys, shop, batch):
    anonymous = Visitor.objects.create()
    favourite(anonymous, product("CT-FOOD"))
    with freeze_time(MORNING):
        with batch():
            feed(shop, {"sku": "CT-FOOD", "stock": 1})
        journeys_evaluate()
    assert mail.outbox == []
    assert not JourneyEntry.objects.filter(visitor=anonymous).exists()


def test_no_active_catalogue_journey_queues_no_job(journeys, shop, batch):
    Journey.objects.filter(pk__in=[j.pk for j in journeys.values()]).update(status="paused")
    favourite(shopper(email="hanako@example.org"), product("CT-FOOD"))
    with batch(jobs=0):
        feed(shop, {"sku": "CT-FOOD", "stock": 1})
    assert not JourneyEntry.objects.exists()


def test_inactive_and_new_products_fire_nothing(journeys, shop, batch):
    hanako = shopper(email="hanako@example.org")
    favourite(hanako, product("CT-GONE", stock=0, active=False))
    with freeze_time(MORNING):
        with batch():
            feed(
                shop,
                {"sku": "CT-GONE", "stock": 5},
                {"sku": "CT-NEW", "name": "New", "price": 1, "stock": 1},
            )
        journeys_evaluate()
    assert mail.outbox == []


def test_opened_links_clicks_and_purchases_show_in_the_report(journeys, shop, batch, client):
    page = reverse("product-page", args=["CT-FOOD"])
    hanako = shopper(email="hanako@example.org")
    favourite(hanako, product("CT-FOOD"))
    with freeze_time(MORNING) as clock:
        with batch():
            feed(shop, {"sku": "CT-FOOD", "stock": 2})
        journeys_evaluate()
        [link] = LINK.findall(mail.outbox[0].body)
        path = link.split("://", 1)[1].split("/", 1)[1]
        opened = client.get(f"/{path}")
        assert (opened.status_code, opened["Location"]) == (302, page)
        assert "no-store" in opened["Cache-Control"]  # every opening reaches the site
        client.get(f"/{path}")
        assert client.get(f"/{path[:-3]}xx/").status_code == 404  # a forged token
        clock.tick(24 * HOUR)
        track(hanako, "purchase", amount=2000, skus=["CT-FOOD"])
    report = journey_report(journey=journeys["favourite_low_stock"])
    assert (report.sent, report.opened, report.clicks, report.converted) == (1, 1, 2, 1)
    assert (report.steps[0].opened, report.steps[0].clicks) == (1, 2)


def test_a_japanese_members_links_open_the_japanese_product_page(journeys, shop, batch, client):
    from cms.members.models import MemberProfile

    page = reverse("product-page", args=["CT-FOOD"])
    hanako = shopper(email="hanako@example.org")
    MemberProfile.objects.update_or_create(user=hanako.user, defaults={"language": "ja"})
    favourite(hanako, product("CT-FOOD", stock=0))
    with freeze_time(MORNING):
        with batch():
            feed(shop, {"sku": "CT-FOOD", "stock": 3})
        journeys_evaluate()
    [link] = LINK.findall(mail.outbox[0].body)
    opened = client.get("/" + link.split("://", 1)[1].split("/", 1)[1])
    assert opened["Location"] == f"/ja{page}"


def test_the_report_page_states_what_the_journey_produced(journeys, client):
    client.force_login(get_user_model().objects.get(username="admin"))
    journey = journeys["favourite_price_drop"]
    response = client.get(f"/admin/personalization/journeys/report/{journey.pk}/")
    content = response.content.decode()
    assert response.status_code == 200
    for label in ("Sent", "Opened links", "Clicks", "Purchases within 7 days"):
        assert label in content
    assert "at least 10 % cheaper" in content


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"trigger": "favourite_low_stock", "stock_threshold": 0}, "stock_threshold", "at least 1"),
        (
            {"trigger": "favourite_price_drop", "price_drop_percent": 0},
            "price_drop_percent",
            "between 1 and 99",
        ),
    ],
)
def test_thresholds_must_be_sane(fields, field, message):
    journey = Journey(name="Bad", **fields)
    with pytest.raises(ValidationError) as raised:
        journey.clean()
    assert message in raised.value.message_dict[field][0]


def test_catalogue_triggers_need_no_window_or_event():
    for trigger in CATALOGUE_TRIGGERS:
        Journey(name="Fine", trigger=trigger, window_amount=0).clean()


def test_the_editor_saves_a_catalogue_journey_with_its_own_fields_only(client):
    from tests.journeys.test_admin import JOURNEY_ADD, journey_form, step

    client.force_login(get_user_model().objects.get(username="admin"))
    page = client.get(JOURNEY_ADD).content.decode()
    assert "journeys/js/trigger_fields.js" in page and "data-journey-trigger" in page
    assert 'name="stock_threshold"' in page and 'name="price_drop_percent"' in page
    form = journey_form(
        name="Low stock",
        trigger="favourite_low_stock",
        trigger_event="",
        follow_up_event="",
        window_amount=-1,  # a hidden field's bad value does not block saving
        stock_threshold=2,
        price_drop_percent=0,
        steps=[step()],
    )
    response = client.post(JOURNEY_ADD, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Journey.objects.get(name="Low stock")
    assert (saved.trigger, saved.stock_threshold, saved.window_amount) == (
        "favourite_low_stock",
        2,
        0,
    )
    refused = client.post(
        JOURNEY_ADD, journey_form(name="Zero", trigger="favourite_low_stock", stock_threshold=0)
    )
    assert "The stock threshold must be at least 1" in refused.content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (set by .ci/run)")
@pytest.mark.skipif(not (settings.DATABASE_URL or "").startswith("postgres"), reason="PostgreSQL")
def test_a_feed_call_is_evaluated_by_a_separate_rqworker_process(tmp_path):
    """The deployment's path on the real clock: the feed commits, its job waits in Redis, a
    `manage.py rqworker` process enters the member, the periodic evaluation sends the email."""
    from tests.events.test_worker_crash import database_url
    from tests.journeys.helpers import messages_at_any_hour

    messages_at_any_hour()
    staff = get_user_model().objects.create_user("shop", "shop@example.org", "x", is_staff=True)
    template = EmailTemplate.objects.create(name="Gone", subject="Almost gone", body_text=BODY)
    journey = Journey.objects.create(name="Gone", status="active", trigger="favourite_low_stock")
    JourneyStep.objects.create(journey=journey, email_template=template)
    hanako = shopper(email="hanako@example.org")
    favourite(hanako, product("CT-FOOD"))
    queue = django_rq.get_queue("default")
    queue.empty()
    feed(api_as(user=staff), {"sku": "CT-FOOD", "stock": 1})
    assert [job.func_name for job in queue.get_jobs()].count(JOB) == 1
    assert not JourneyEntry.objects.exists()  # nothing happens until a worker takes the job
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "rqworker", "default", "--burst"],
            cwd=Path(__file__).resolve().parents[2],
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "DATABASE_URL": database_url(),
                "REDIS_URL": settings.REDIS_URL,
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=180,
            check=False,
        )
    assert worker.returncode == 0, log.read_text()[-3000:]
    entry = JourneyEntry.objects.get(journey=journey)
    assert entry.visitor_id == hanako.pk
    journeys_evaluate()
    [email] = mail.outbox
    assert email.to == ["hanako@example.org"] and "CT-FOOD" in email.body
