"""Reading the environment: every setting that comes from outside passes through here.

Bad values stop start-up with a one-line `ConfigError` (manage.py and wsgi print it without a
traceback), never a half-configured process.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

SUPPORTED_DATABASE_SCHEMES = ("postgres", "postgresql", "pgsql", "sqlite")


class ConfigError(ImproperlyConfigured):
    """A setting read from the environment is missing or malformed."""


def _raw(name: str) -> str | None:
    value = env.str(name, default=None)
    return value.strip() if value is not None and value.strip() else None


def bool_setting(name: str, default: bool) -> bool:
    """A yes/no environment value (1/0, true/false, yes/no, on/off)."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={value!r} is not a yes/no value (use 1/0, true/false, yes/no).")


def int_setting(name: str, default: int, *, minimum: int = 0) -> int:
    """A whole-number environment value of at least `minimum`."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise ConfigError(f"{name}={number} must be at least {minimum}.")
    return number


def list_setting(name: str, default: list[str]) -> list[str]:
    """A comma-separated environment value."""
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def str_setting(name: str, default: str | None = None) -> str | None:
    """A plain string environment value (blank counts as unset)."""
    value = _raw(name)
    return default if value is None else value


# SQLite serving several processes and threads at once (the embedded default under gunicorn):
# - WAL lets readers go on while one connection writes (the default rollback journal blocks
#   every reader for the length of a write);
# - BEGIN IMMEDIATE takes the write lock when a transaction starts: a DEFERRED transaction that
#   has read and then wants to write cannot wait for the lock (SQLite answers "database is
#   locked" at once to avoid a deadlock), an IMMEDIATE one waits like any other writer;
# - the busy timeout is how long a writer waits for the lock before giving up.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def database_setting(url: str | None, sqlite_path: str) -> dict:
    """`DATABASES["default"]` from DATABASE_URL, or the embedded SQLite file when it is unset."""
    if url is None:
        return _sqlite({"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_path})
    parts = urlsplit(url)
    if parts.scheme not in SUPPORTED_DATABASE_SCHEMES:
        raise ConfigError(
            f"DATABASE_URL={url!r} is not a database URL we support "
            "(expected postgres://user@host:port/name or sqlite:////absolute/path.db)."
        )
    try:
        config = environ.Env.db_url_config(url)
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"DATABASE_URL={url!r} cannot be parsed: {exc}.") from None
    if not config.get("NAME"):
        raise ConfigError(f"DATABASE_URL={url!r} names no database (add /dbname at the end).")
    if config["ENGINE"].endswith("postgresql"):
        config.setdefault("CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
    if config["ENGINE"].endswith("sqlite3"):
        return _sqlite(config)
    return config


def _sqlite(config: dict) -> dict:
    """A SQLite database set up for concurrent requests (see SQLITE_OPTIONS)."""
    return {**config, "OPTIONS": {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}}


def redis_url_setting(url: str | None) -> str | None:
    """REDIS_URL checked for shape; None means 'no Redis: run jobs inline'."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(f"REDIS_URL={url!r} is not a Redis URL (expected redis://host:port/db).")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(f"REDIS_URL={url!r} has a malformed port.") from None
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigError(f"REDIS_URL={url!r} names no host.")
    return url


def with_connect_timeout(url: str, seconds: float = 1.0) -> str:
    """`url` with `socket_connect_timeout` set unless it names one: an unreachable Redis host
    (packets dropped, not refused) then fails a connection in `seconds` instead of the
    operating system's minutes, so the outage fallbacks answer in time. No read timeout: RQ
    workers block on Redis for minutes by design."""
    parts = urlsplit(url)
    if "socket_connect_timeout=" in parts.query:
        return url
    query = "&".join(filter(None, [parts.query, f"socket_connect_timeout={seconds:g}"]))
    return parts._replace(query=query).geturl()
