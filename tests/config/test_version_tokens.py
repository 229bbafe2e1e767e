"""Version tokens are read at most once per request, in one round trip, and never carried from
one request (or thread) to another; outside a request every read goes to the cache."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

from cms.render_cache import store
from config import version_tokens
from config.version_tokens import VersionTokensMiddleware, request_scope
from experiments.registry import TOKEN_CACHE_KEY, bump_registry, running_experiments
from personalization.commerce.version import CATALOGUE_KEY
from personalization.consent import CONSENT_VERSION_KEY
from personalization.resolver import (
    VERSION_CACHE_KEY,
    bump_segment_set_version,
    segment_set_version,
)
from tests.redis_commands import needs_redis, redis_round_trips

pytestmark = pytest.mark.django_db

TOKENS = (
    VERSION_CACHE_KEY,
    TOKEN_CACHE_KEY,
    store.GENERATION_KEY,
    CONSENT_VERSION_KEY,
    CATALOGUE_KEY,
)


def read_all() -> tuple[str, str, str]:
    return segment_set_version(), running_experiments().token, store.generation()


def test_every_token_of_the_site_is_registered():
    assert set(TOKENS) <= set(version_tokens._registered)


@needs_redis
def test_in_a_request_all_tokens_are_read_in_one_round_trip_and_then_kept():
    read_all()  # each token is in the cache
    with request_scope(), redis_round_trips() as trips:
        first = read_all()
        for _ in range(3):
            assert read_all() == first
    assert len(trips) == 1, trips.commands
    assert trips.sent[0][0].startswith("MGET")


@needs_redis
def test_outside_a_request_every_read_asks_the_cache_as_before():
    read_all()
    with redis_round_trips() as trips:
        read_all()
        read_all()
    assert len(trips) == 6, trips.commands


def test_a_change_this_request_makes_is_seen_by_the_rest_of_it():
    with request_scope():
        before = read_all()
        segments = bump_segment_set_version()
        bump_registry()
        store.bump_generation()
        after = read_all()
    assert after[0] == segments != before[0]
    assert after[1] != before[1]
    assert after[2] != before[2]
    assert read_all() == after  # and the cache holds them for everyone


def test_a_token_missing_from_the_cache_is_derived_once_and_kept():
    with request_scope():
        cache.delete(store.GENERATION_KEY)
        derived = store.generation()
        cache.set(store.GENERATION_KEY, "changed-meanwhile")
        assert store.generation() == derived  # this request's snapshot
    assert store.generation() == "changed-meanwhile"


def test_another_process_s_change_is_seen_by_the_next_request_not_the_running_one():
    middleware = VersionTokensMiddleware(lambda request: HttpResponse(store.generation()))
    with request_scope():
        running = store.generation()
        cache.set(store.GENERATION_KEY, "from-another-process")  # as another process bumps
        assert store.generation() == running
    assert middleware(None).content == b"from-another-process"
    cache.set(store.GENERATION_KEY, "and-again")
    assert middleware(None).content == b"and-again"


def test_the_memo_ends_with_the_request_even_when_it_fails():
    def failing(request):
        store.generation()
        assert version_tokens._memo.get() is not None
        raise RuntimeError("the view failed")

    with pytest.raises(RuntimeError):
        VersionTokensMiddleware(failing)(None)
    assert version_tokens._memo.get() is None


def test_two_threads_in_requests_at_once_never_share_a_memo():
    """Thread A reads in its request; thread B's request starts after a change and must see
    it, while A's request goes on with the value it read."""
    a_read, changed, b_done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, list[str]] = {"a": [], "b": []}

    def request_a():
        with request_scope():
            seen["a"].append(store.generation())
            a_read.set()
            b_done.wait(10)
            seen["a"].append(store.generation())

    def request_b():
        a_read.wait(10)
        cache.set(store.GENERATION_KEY, "changed-by-b's-process")
        changed.set()
        with request_scope():
            seen["b"].append(store.generation())
        b_done.set()

    cache.set(store.GENERATION_KEY, "before")
    threads = [threading.Thread(target=request_a), threading.Thread(target=request_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert seen == {"a": ["before", "before"], "b": ["changed-by-b's-process"]}
    assert version_tokens._memo.get() is None  # this thread was never in a request


def test_the_middleware_wraps_every_request_first():
    assert settings.MIDDLEWARE[0] == "config.version_tokens.VersionTokensMiddleware"


def test_a_per_process_value_is_built_once_per_token_however_many_threads_ask():
    token = {"now": "one"}
    builds = []
    started = threading.Event()

    def build(version: str) -> str:
        builds.append(version)
        started.wait(1)  # every other thread asks while this build runs
        return f"built for {version}"

    kept = version_tokens.PerProcess(lambda: token["now"], build)
    threads = [threading.Thread(target=kept.get) for _ in range(8)]
    for thread in threads:
        thread.start()
    started.set()
    for thread in threads:
        thread.join()
    assert builds == ["one"]
    assert kept.get() == "built for one" and builds == ["one"]
    token["now"] = "two"
    assert kept.get() == "built for two" and builds == ["one", "two"]
    kept.reset()
    assert kept.get() == "built for two" and builds == ["one", "two", "two"]


def test_a_token_missing_from_the_cache_is_derived_and_kept_and_a_bump_replaces_it():
    derived = []
    token = version_tokens.VersionToken("tests:derived-token", lambda: derived.append(1) or "db")
    try:
        cache.delete(token.key)
        with request_scope():
            assert token() == "db" and token() == "db"
        assert len(derived) == 1 and cache.get(token.key) == "db"
        bumped = token.bump()
        assert bumped != "db" and token() == bumped and cache.get(token.key) == bumped
        assert len(derived) == 1
    finally:
        version_tokens._registered.pop(token.key)  # not one of the site's tokens
