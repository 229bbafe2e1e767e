"""The running-experiments token lives as long as the segment set's: with a shared cache every
change replaces it, so no request needs to ask the database every few seconds."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings

from config.version_tokens import token_ttl as version_token_ttl
from experiments.registry import TOKEN_CACHE_KEY, running_experiments

pytestmark = pytest.mark.django_db
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
LOCAL = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.mark.parametrize(("caches", "ttl"), [(REDIS, 3600), (LOCAL, 5)], ids=["redis", "local"])
def test_tokens_are_trusted_for_an_hour_in_a_shared_cache_and_seconds_in_a_local_one(caches, ttl):
    with override_settings(CACHES=caches, PERSONALIZATION_LOCAL_VERSION_TTL=5):
        assert version_token_ttl() == ttl


def seconds_left(key: str) -> float:
    """How long the configured cache keeps `key` (Redis when REDIS_URL is set, else locmem)."""
    backend = caches["default"]
    full_key = backend.make_and_validate_key(key)
    if isinstance(backend, RedisCache):
        return backend._cache.get_client(write=False).ttl(full_key)
    return backend._expire_info[full_key] - time.time()


def test_the_registry_caches_its_token_as_long_as_the_segment_set_does():
    cache.delete(TOKEN_CACHE_KEY)
    running_experiments()  # reads the token from the database and caches it
    # It was a fixed 5 s: with Redis, one request every 5 s paid an extra query.
    assert version_token_ttl() - 60 < seconds_left(TOKEN_CACHE_KEY) <= version_token_ttl()
