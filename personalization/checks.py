"""System checks of what the event pipeline's promise rests on (`manage.py check --deploy`):
a 202 from the events API means the events are in Redis, so Redis must keep them through a
crash (docs/operator-guide.md, "Redis persistence")."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register
from django.utils.translation import gettext as _
from redis import Redis
from redis.exceptions import RedisError


def _hint() -> str:
    return _(
        "Run Redis with appendonly yes and appendfsync always (docs/operator-guide.md, "
        "'Redis persistence')."
    )


@register("redis", deploy=True)
def redis_persistence_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when the configured Redis would lose accepted events in a crash (no AOF)."""
    if not settings.REDIS_URL:
        return []
    client = Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        aof = bool(int(client.info("persistence").get("aof_enabled", 0)))
        fsync = _config_value(client, "appendfsync")
    except RedisError as exc:
        message = _("Could not read the persistence settings of Redis (%(error)s).")
        return [Warning(message % {"error": exc}, hint=_hint(), id="personalization.W001")]
    finally:
        client.close()
    if not aof:
        message = _(
            "Redis runs without its append-only file: a Redis crash loses the accepted events "
            "that no worker has stored yet."
        )
        return [Warning(message, hint=_hint(), id="personalization.W002")]
    if fsync not in (None, "always"):
        message = _(
            "Redis writes its append-only file with appendfsync %(fsync)s: a Redis crash may "
            "lose the events accepted in the last second or so."
        )
        return [Warning(message % {"fsync": fsync}, hint=_hint(), id="personalization.W003")]
    return []


def _config_value(client: Redis, name: str) -> str | None:
    """A Redis setting, or None where CONFIG is not allowed (some managed services)."""
    try:
        value = client.config_get(name).get(name)
    except RedisError:
        return None
    return value.decode() if isinstance(value, bytes) else value
