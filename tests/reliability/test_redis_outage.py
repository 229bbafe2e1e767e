"""Redis down must not take the site down: the site, the API, the admin, the log-in and the
events API keep working while a private Redis is stopped or killed mid-run."""

from __future__ import annotations

import pytest
import redis


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
