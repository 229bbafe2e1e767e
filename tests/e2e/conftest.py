"""Browser end-to-end fixtures: the demo site on a live server, Debian's chromium driven by
Playwright, background jobs drained as a deployment's worker would, and screenshots for the docs.

Each test gets the demo site (`site`) in a transactional database (the live server's threads
must see committed data), a fresh browser (`browser`) whose contexts (`new_page`) are
separate visitors, and `drain_jobs()` to run what the browser's requests queued: nothing to do
without Redis (jobs run inline when the request commits), a real RQ worker in burst mode when
REDIS_URL is set.

The browser tests need chromium (Debian's, at /usr/bin/chromium; `CHROMIUM_PATH` overrides it
so the rule below can be tested). With `CI` set they are required: a missing browser fails them.
Outside CI, without chromium they are deselected and the run ends with one line saying so.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MAX_SCREENSHOT_BYTES = 300 * 1024
QUEUES = ("default", "events", "reports")
TIMEOUT_MS = 15_000
_SHARED_CONNECTION_LOCK = threading.RLock()
_DEMO_SNAPSHOTS: dict[str, str] = {}  # test database name -> the demo site's rows
_DESELECTED = pytest.StashKey[int]()  # how many browser tests this run left out


def chromium_path() -> str:
    """The chromium the browser tests drive: `CHROMIUM_PATH` if set, else Debian's."""
    return os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM


def _in_ci() -> bool:
    """Whether `CI` is set (as `.ci/run` does): then the browser tests are required."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _has_chromium() -> bool:
    path = chromium_path()
    return os.path.isfile(path) and os.access(path, os.X_OK)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Outside CI and without chromium, leave out every test that needs the browser."""
    if _in_ci() or _has_chromium():
        return
    browser_tests = [item for item in items if "browser" in getattr(item, "fixturenames", ())]
    if not browser_tests:
        return
    left_out = set(browser_tests)
    items[:] = [item for item in items if item not in left_out]
    config.hook.pytest_deselected(items=browser_tests)
    config.stash[_DESELECTED] = len(browser_tests)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """One line at the end of the run: how many browser tests were left out, and how to run them."""
    count = config.stash.get(_DESELECTED, 0)
    if not count:
        return
    tests = "browser test was" if count == 1 else "browser tests were"
    terminalreporter.write_line(
        f"{count} {tests} deselected: no chromium at {chromium_path()}. "
        "To run them: apt-get install chromium (with CI set they are required).",
        yellow=True,
        bold=True,
    )


@pytest.fixture
def browser(monkeypatch):
    """Headless chromium for one test.

    Playwright's sync API keeps an asyncio loop running in this thread, which makes Django refuse
    ORM calls from it ("async context"); the test thread's ORM use here is plain synchronous code,
    so the check is lifted for the browser's lifetime only. The browser is started after, and
    stopped before, pytest-django's per-test database set-up and flush."""
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def new_page(browser):
    """`new_page()` opens a page in a fresh browser context: a separate visitor (own cookies)."""
    contexts = []

    def open_page():
        context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="Asia/Tokyo")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _shares_one_connection(live_server) -> bool:
    """On SQLite the test database is in memory and the live server's threads share this
    thread's one connection: requests the browser makes in parallel (the page editor's autosave
    and preview, a page and its images) must then take turns, or they interleave on it
    ("database table is locked", half-seen transactions)."""
    return bool(live_server.thread.connections_override)


@pytest.fixture
def _requests_take_turns(live_server):
    """Serialize the live server's requests when they share one connection (SQLite)."""
    if not _shares_one_connection(live_server):
        return
    httpd = live_server.thread.httpd
    app = httpd.get_app()
    if getattr(app, "takes_turns", False):
        return

    def one_at_a_time(environ, start_response):
        with _SHARED_CONNECTION_LOCK:
            response = app(environ, start_response)
            try:
                return [b"".join(response)]  # read it all while holding the connection
            finally:
                if hasattr(response, "close"):
                    response.close()  # request_finished handlers run inside the turn too

    one_at_a_time.takes_turns = True
    httpd.set_app(one_at_a_time)


@pytest.fixture
def db_turn(live_server):
    """`with db_turn(): ...` for ORM calls in the test while the browser may still be talking
    to the server (they share one connection on SQLite); a no-op on PostgreSQL."""
    if _shares_one_connection(live_server):
        return lambda: _SHARED_CONNECTION_LOCK
    return contextlib.nullcontext


@pytest.fixture(scope="session", autouse=True)
def _demo_snapshot(django_db_setup, django_db_blocker):
    """Keep the demo site the session built (tests/conftest.py) as serialized rows, taken before
    the first transactional test changes the database, so each test here starts from it."""
    from django.db import connection

    from cms.models import HomePage

    with django_db_blocker.unblock():
        if HomePage.objects.exists():
            _DEMO_SNAPSHOTS[connection.settings_dict["NAME"]] = (
                connection.creation.serialize_db_to_string()
            )


@pytest.fixture
def site(live_server, _requests_take_turns, _jobs_isolated):
    """The demo site (pages, segments, experiment, members, admin) served by the live server;
    returns a function making absolute URLs.

    Every test starts from the same demo site: the session's (`_demo_snapshot`), restored over
    whatever the previous test left (the image files stay on disk), then `load_demo`, which
    finds it complete. Without a snapshot the site is built by `load_demo` from the migrated
    database and kept for the next tests (building it draws pictures and renditions: ~10 s)."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    snapshot = _DEMO_SNAPSHOTS.get(name)
    _restore(snapshot or connection._test_serialized_contents)
    # The live server runs in this process: segment sets, experiments and render generations
    # compiled for the previous test's rows must not outlive them (ids are reused).
    from cms.render_cache.store import bump_generation
    from experiments.registry import bump_registry
    from personalization.resolver import bump_segment_set_version

    bump_segment_set_version()
    bump_registry()
    bump_generation()
    call_command("load_demo", "--no-progress", verbosity=0)
    _drain()  # whatever building the demo queued, as a worker would
    if snapshot is None:
        _DEMO_SNAPSHOTS[name] = connection.creation.serialize_db_to_string()
    base = live_server.url.rstrip("/")
    return lambda path="/": f"{base}{path}"


def _restore(rows: str) -> None:
    """Empty the database and load `rows` (serialized), ids included; then move each table's
    id sequence past the loaded ids (PostgreSQL), as `loaddata` does."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    call_command(
        "flush", verbosity=0, interactive=False, inhibit_post_migrate=True, reset_sequences=False
    )
    connection.creation.deserialize_db_from_string(rows)
    tables = set(connection.introspection.table_names())
    models = [m for m in apps.get_models(include_auto_created=True) if m._meta.db_table in tables]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


@pytest.fixture
def _jobs_isolated(settings):
    """With Redis, this test's jobs and events stay its own: the queues start empty and the
    event stream gets a name of its own (the live server's thread shares these settings)."""
    if settings.JOBS_INLINE:
        yield
        return
    import django_rq

    settings.EVENTS_STREAM = f"e2e-{uuid.uuid4().hex[:12]}:events"
    queues = [django_rq.get_queue(name) for name in QUEUES]
    for queue in queues:
        queue.empty()
        for job_id in queue.failed_job_registry.get_job_ids():
            queue.failed_job_registry.remove(job_id, delete_job=True)
    yield
    connection = queues[0].connection
    stream = settings.EVENTS_STREAM
    connection.delete(stream, f"{stream}:drain-queued", f"{stream}:dead")


def _drain() -> None:
    """Run every queued job with a real RQ worker (burst mode) in this thread; none may fail."""
    if settings.JOBS_INLINE:
        return
    import django_rq
    from rq import SimpleWorker

    queues = [django_rq.get_queue(name) for name in QUEUES]
    SimpleWorker(queues, connection=queues[0].connection).work(burst=True)
    failed = {q.name: q.failed_job_registry.get_job_ids() for q in queues}
    assert not any(failed.values()), f"queued jobs failed: {failed}"


@pytest.fixture
def drain_jobs(site):
    """`drain_jobs()` runs the jobs the browser's requests queued (a real RQ worker in burst
    mode with Redis; without Redis they already ran inline when each request committed)."""
    return _drain


@pytest.fixture
def screenshot():
    """`screenshot(page, "e2e-1-name")` saves docs/screenshots/e2e-1-name.png (kept under
    300 KB: reduced to a 256-colour palette when a full-colour PNG would be larger)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page_or_locator, name: str, **options) -> Path:
        assert re.fullmatch(r"e2e-[a-z0-9-]+", name), name
        path = SCREENSHOTS / f"{name}.png"
        data = page_or_locator.screenshot(type="png", animations="disabled", **options)
        if len(data) > MAX_SCREENSHOT_BYTES:
            data = _palette_png(data)
        path.write_bytes(data)
        assert path.stat().st_size <= MAX_SCREENSHOT_BYTES, f"{path} is too large for the docs"
        return path

    return save


def _palette_png(data: bytes) -> bytes:
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


@pytest.fixture
def admin_page(site, new_page):
    """A browser page logged in to the Wagtail admin as the demo editor, as a person would."""
    page = new_page()
    page.goto(site("/admin/login/"))
    page.get_by_label("Username").fill(settings.DEMO_ADMIN_USERNAME)
    page.get_by_label("Password").fill(settings.DEMO_ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site("/admin/"))
    return page
