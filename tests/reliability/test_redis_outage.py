"""Redis down must not take the site down: the site, the API, the admin, the log-in and the
events API keep working while a private Redis is killed — before the first request or mid-run —
with the cache, the queues, Wagtail's tasks and the event pipeline all pointed at it."""

from __future__ import annotations

import io
import logging
import uuid

import pytest
import redis
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from PIL import Image as PillowImage
from wagtail.images import get_image_model
from wagtail.models import Page, Site
from wagtail.tasks import update_reference_index_task
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from cms.models import ContentPage
from config.cache import redis_outage, redis_outages_reset
from experiments.models import Conversion, Experiment, ExperimentStatus, Exposure
from experiments.registry import running_experiments
from personalization.events import ingest
from personalization.events.models import Event
from personalization.models import Segment, Visitor
from tests.api.helpers import IPHONE, api_as, api_segments
from tests.factories import PASSWORD, MemberFactory

pytestmark = pytest.mark.django_db


def test_the_private_redis_can_be_killed_and_started_again_on_the_same_port(private_redis):
    private_redis.client().set("k", "v")
    port = private_redis.port
    private_redis.kill()
    with pytest.raises(redis.exceptions.ConnectionError):
        private_redis.client().ping()
    private_redis.start()
    assert private_redis.port == port
    assert private_redis.client().get("k") is None  # no persistence: a crash loses everything
    private_redis.stop()
    assert not private_redis.running


@pytest.fixture
def redis_settings(settings, private_redis):
    """Everything that uses Redis — cache, RQ queues, Wagtail's tasks, the event pipeline —
    pointed at the private server, as production settings would with REDIS_URL."""
    url = private_redis.url
    settings.REDIS_URL = url
    settings.JOBS_INLINE = False
    settings.RQ_QUEUES = {
        name: {"URL": url, "DEFAULT_TIMEOUT": 600} for name in settings.RQ_QUEUE_NAMES
    }
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "outage",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0, "down_seconds": 5},
        }
    }
    settings.TASKS = {
        "default": {"BACKEND": "config.tasks.ResilientRQBackend", "QUEUES": ["default"]}
    }
    settings.EVENTS_STREAM = f"outage-events:{uuid.uuid4().hex}"
    _forget_outages()
    yield private_redis
    _forget_outages()


def _forget_outages() -> None:
    """No process memory of an outage leaks into or out of a test."""
    redis_outages_reset()
    ingest._redis_down_until = 0.0


@pytest.fixture
def redis_down(redis_settings):
    """Redis configured, then killed before the first request."""
    redis_settings.kill()
    return redis_settings


def staff():
    """The demo's admin (staff, superuser); sign-ups are reported by a staff API token."""
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(staff())
    return client


def png_file(name: str = "outage.png"):
    """A real, small PNG upload."""
    buffer = io.BytesIO()
    PillowImage.new("RGB", (32, 24), "teal").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def home_page() -> Page:
    """The root page of the demo site."""
    return Site.objects.get(is_default_site=True).root_page


def exposed_visitor() -> Visitor:
    """A visitor exposed to the demo's running home-page experiment (goal: sign-up)."""
    experiment = Experiment.objects.get(key="home-hero")
    visitor = Visitor.objects.create()
    Exposure.objects.create(
        experiment=experiment,
        variant=experiment.variants.first(),
        visitor=visitor,
        exposed_at=timezone.now() - timezone.timedelta(minutes=5),
    )
    return visitor


# THE CACHE
# ------------------------------------------------------------------------------


def test_a_cache_failure_is_a_miss_and_is_logged_once_not_per_call(redis_down, caplog):
    cache = caches["default"]
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        for _ in range(50):
            cache.set("greeting", "hello")
            assert cache.get("greeting", "default") == "default"
            assert cache.get_many(["greeting"]) == {}
            assert cache.add("other", 1) is False
            cache.delete("greeting")
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "127.0.0.1" in caplog.records[0].message


def test_after_a_failure_the_cache_leaves_redis_alone_for_a_few_seconds(redis_settings):
    cache = caches["default"]
    redis_settings.kill()
    assert cache.get("k") is None  # fails, opens the pause
    redis_settings.start()
    redis_settings.client().set(cache.make_key("k"), b"\x80\x05K\x07.")  # pickle of 7
    assert cache.get("k") is None  # skipped: Redis is not asked during the pause
    redis_outage(redis_settings.url).down_until = 0.0  # the pause is over
    assert cache.get("k") == 7


def test_a_write_lost_in_an_outage_cannot_leave_a_stale_entry_behind(redis_settings):
    cache = caches["default"]
    cache.set("site-roots", "before")
    redis_settings.pause()  # a partition: the server holds its data but does not answer
    try:
        cache.set("site-roots", "after")  # times out: not written
    finally:
        redis_settings.resume()
    assert redis_settings.client().exists(cache.make_key("site-roots"))  # the stale entry
    redis_outage(redis_settings.url).down_until = 0.0
    assert cache.get("site-roots") is None  # deleted when Redis answered again
    assert not redis_settings.client().exists(cache.make_key("site-roots"))


# THE SITE, THE API, THE ADMIN AND THE LOG-IN
# ------------------------------------------------------------------------------


def test_site_pages_answer_200_while_redis_is_down(redis_down, client):
    assert client.get("/").status_code == 200
    assert client.get("/members/").status_code in {200, 302}
    section = home_page().get_children().live().first()
    assert client.get(section.url).status_code == 200


def test_api_pages_answer_200_while_redis_is_down(redis_down):
    api = api_as(uuid.uuid4())
    response = api.get("/api/v1/pages/find/", {"path": "/"})
    assert response.status_code == 200
    assert response.json()["body"]


def test_segments_compile_from_the_database_and_follow_changes_while_redis_is_down(redis_down):
    mobile = Segment.objects.get(slug="mobile-visitors")
    api = api_as(uuid.uuid4(), HTTP_X_VISITOR_USER_AGENT=IPHONE)

    def home_segments() -> list[str]:
        response = api.get("/api/v1/pages/find/", {"path": "/"})
        assert response.status_code == 200
        return api_segments(response.json()["body"])

    assert home_segments() == [str(mobile.pk)]
    mobile.enabled = False
    mobile.save()  # the new segment-set version is in the database only
    assert home_segments() == ["default"]


def test_the_experiments_registry_follows_changes_from_the_database_while_redis_is_down(
    redis_down,
):
    assert "home-hero" in running_experiments().by_key
    # Stopped by another process: its registry bump reached only its own memory and Redis.
    Experiment.objects.filter(key="home-hero").update(
        status=ExperimentStatus.COMPLETED, updated_at=timezone.now()
    )
    assert "home-hero" not in running_experiments().by_key


def test_the_admin_edits_saves_and_publishes_a_page_while_redis_is_down(redis_down, staff_client):
    home = home_page()
    page = home.add_child(instance=ContentPage(title="Outage notes", slug="outage-notes"))
    page.save_revision().publish()
    edit_url = f"/admin/pages/{page.pk}/edit/"
    assert staff_client.get(edit_url).status_code == 200
    form = {
        "title": "Outage notes, revised",
        "slug": "outage-notes",
        "intro": "Written while Redis was down.",
        "body": streamfield([]),
        "comments": inline_formset([]),
        "tags": "",
    }
    saved = staff_client.post(edit_url, nested_form_data(form))
    assert saved.status_code == 302
    form["action-publish"] = "action-publish"
    published = staff_client.post(edit_url, nested_form_data(form))
    assert published.status_code == 302
    page.refresh_from_db()
    assert page.live and page.title == "Outage notes, revised"
    assert page.live_revision == page.latest_revision
    live = Client().get(page.url)
    assert live.status_code == 200 and "Written while Redis was down." in live.content.decode()


def test_an_image_upload_in_the_admin_succeeds_while_redis_is_down(redis_down, staff_client):
    response = staff_client.post(
        "/admin/images/add/", {"title": "Outage picture", "file": png_file()}
    )
    assert response.status_code == 302
    image = get_image_model().objects.get(title="Outage picture")
    assert (image.width, image.height) == (32, 24)


def test_wagtail_tasks_run_inline_when_their_queue_cannot_be_reached(redis_down):
    page = home_page()
    result = update_reference_index_task.enqueue("wagtailcore", "page", str(page.pk))
    assert result.status == "SUCCESSFUL"


def test_a_member_logs_in_on_the_site_while_redis_is_down(redis_down):
    member = MemberFactory()
    client = Client()
    response = client.post("/account/login/", {"username": member.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/account/profile/").status_code == 200


# EVENTS, THROTTLES, THE RQ DASHBOARD
# ------------------------------------------------------------------------------


def test_events_are_accepted_stored_and_matched_to_goals_while_redis_is_down(
    redis_down, django_capture_on_commit_callbacks
):
    visitor = exposed_visitor()
    key = f"outage-{uuid.uuid4().hex}"
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit
        response = api_as(visitor.uuid, user=staff()).post(
            "/api/v1/events/", [{"type": "sign_up", "idempotency_key": key}], format="json"
        )
    assert response.status_code == 202
    assert Event.objects.filter(idempotency_key=key, visitor=visitor).count() == 1
    assert Conversion.objects.filter(visitor=visitor, goal__name="Sign-up").count() == 1


def test_throttles_still_limit_per_process_while_redis_is_down(redis_down, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "visitor": "3/minute"}
    api = api_as(uuid.uuid4())
    statuses = [api.get("/api/v1/visitor/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_the_rq_dashboard_says_redis_is_not_reachable(redis_down, staff_client):
    response = staff_client.get("/admin/rq/")
    assert response.status_code == 200
    assert "Redis is not reachable" in response.content.decode()


# REDIS GOING AWAY MID-RUN
# ------------------------------------------------------------------------------


def test_when_redis_dies_mid_run_every_request_keeps_working(
    redis_settings, staff_client, django_capture_on_commit_callbacks
):
    anonymous, api = Client(), api_as(uuid.uuid4())
    assert anonymous.get("/").status_code == 200  # fills the cache: site roots, segments …
    assert api.get("/api/v1/pages/find/", {"path": "/"}).status_code == 200
    assert staff_client.get("/admin/").status_code == 200
    assert redis_settings.client().dbsize() > 0

    redis_settings.kill()
    assert anonymous.get("/").status_code == 200
    assert api.get("/api/v1/pages/find/", {"path": "/"}).status_code == 200
    assert staff_client.get("/admin/").status_code == 200
    visitor = exposed_visitor()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(visitor.uuid, user=staff()).post(
            "/api/v1/events/", [{"type": "sign_up", "idempotency_key": "mid-run"}], format="json"
        )
    assert response.status_code == 202
    assert Event.objects.filter(idempotency_key="mid-run").count() == 1
    assert Conversion.objects.filter(visitor=visitor).count() == 1

    redis_settings.start()  # back, empty: the site fills the cache again
    redis_outage(redis_settings.url).down_until = 0.0
    assert anonymous.get("/").status_code == 200
    assert redis_settings.client().dbsize() > 0
