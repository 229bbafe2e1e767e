"""Shared fixtures: the demo site is loaded once per test session, as a user's `make run` would,
so site tests walk the same pages, members and privacy settings a newcomer sees."""

from __future__ import annotations

from contextlib import contextmanager

import django_rq
import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.management import call_command
from rq import SimpleWorker

from tests.factories import MemberFactory

QUEUES = ("default", "events", "reports")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_demo", "--no-progress", verbosity=0)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache, as its database changes are rolled back after it.

    With Redis, only this run's keys (its KEY_PREFIX) are deleted, never anyone else's."""
    yield
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
        from cms.render_cache.stats import local_counters

        local_counters.clear()  # the render cache's figures without Redis: this process's own
    caches["renditions"].clear()  # this process's own (config/settings/base.py)
    # This process's catalogue snapshot: kept under the catalogue's token, which a rolled-back
    # test's changes may leave as it was (the token derived from the same demo products).
    from personalization.commerce.snapshot import snapshot_reset

    snapshot_reset()


@pytest.fixture
def member(db):
    """A member with a complete profile (Tokyo, 25, dog owner)."""
    return MemberFactory()


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """`with run_jobs(): ...` runs the jobs the block queued, as the deployment would: inline
    without Redis, or by a real RQ worker (burst mode) against Redis when REDIS_URL is set."""

    @contextmanager
    def runner():
        if not settings.JOBS_INLINE:
            for name in QUEUES:
                django_rq.get_queue(name).empty()
        with django_capture_on_commit_callbacks(execute=True):
            yield
        if not settings.JOBS_INLINE:
            queues = [django_rq.get_queue(name) for name in QUEUES]
            SimpleWorker(queues, connection=queues[0].connection).work(burst=True)
            failed = sum(q.failed_job_registry.count for q in queues)
            assert failed == 0, "a queued job failed"

    return runner


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(config, items):
    """Tests that commit to the database (transactional, live server) empty and restore the demo
    data: they are marked `serial`, and `make test` runs them in one process after the parallel
    run of all the others (as a single-process run orders them: last)."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        transactional = marker is not None and marker.kwargs.get("transaction", False)
        if transactional or {"live_server", "transactional_db"} & set(item.fixturenames):
            item.add_marker(pytest.mark.serial)
            if marker is None or not marker.kwargs.get("serialized_rollback", False):
                # Its flush would recreate content types under new ids, and every later
                # browser test's restore of the demo data would collide with them.
                raise pytest.UsageError(
                    f"{item.nodeid} commits to the database: mark it "
                    "django_db(transaction=True, serialized_rollback=True)"
                )
