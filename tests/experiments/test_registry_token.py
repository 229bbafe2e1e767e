"""The running-experiments token lives as long as the segment set's: with a shared cache every
change replaces it, so no request needs to ask the database every few seconds."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

from experiments.registry import TOKEN_CACHE_KEY, running_experiments

pytestmark = pytest.mark.django_db


def test_with_a_shared_cache_the_token_is_trusted_for_an_hour():
    if not settings.REDIS_URL:
        pytest.skip("needs the shared (Redis) cache; without it the token is re-read every 5 s")
    cache.delete(TOKEN_CACHE_KEY)
    running_experiments()  # reads the token from the database and caches it
    client = cache._cache.get_client(write=False)
    ttl = client.ttl(cache.make_and_validate_key(TOKEN_CACHE_KEY))
    assert 3000 < ttl <= 3600  # it was 5 s: one request every 5 s paid an extra query
