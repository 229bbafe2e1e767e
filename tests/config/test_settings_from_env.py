"""Settings are chosen from the environment, and bad values stop start-up with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': str(settings.DATABASES['default']['NAME']), 'inline': settings.JOBS_INLINE, "
    "'queues': sorted(settings.RQ_QUEUES), 'queue_url': settings.RQ_QUEUES['events']['URL'], "
    "'tasks': settings.TASKS['default']['BACKEND'], "
    "'cache': settings.CACHES['default']['BACKEND'], "
    "'debug': settings.DEBUG}))"
)


def run_python(code: str, settings_module: str = "config.settings.dev", **env: str):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update({"DJANGO_SETTINGS_MODULE": settings_module, **env})
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=clean, capture_output=True, text=True
    )


def run_manage(*args: str, **env: str):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings.dev", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=clean, capture_output=True, text=True
    )


def probe(**env: str) -> dict:
    result = run_python(PROBE, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_env_the_embedded_defaults_are_sqlite_and_inline_jobs():
    chosen = probe()
    assert chosen["engine"] == "django.db.backends.sqlite3"
    assert chosen["name"].endswith("db.sqlite3")
    assert chosen["inline"] is True
    assert chosen["tasks"].endswith("ImmediateBackend")
    assert chosen["cache"].endswith("LocMemCache")
    assert chosen["debug"] is False


def test_database_and_redis_urls_select_postgresql_and_real_rq_queues():
    chosen = probe(
        DATABASE_URL="postgres://app@db.internal:5432/cms", REDIS_URL="redis://cache:6379/2"
    )
    assert chosen["engine"] == "django.db.backends.postgresql"
    assert chosen["name"] == "cms"
    assert chosen["inline"] is False
    assert chosen["queues"] == ["default", "events", "reports"]
    assert chosen["queue_url"] == "redis://cache:6379/2?socket_connect_timeout=1"
    assert chosen["tasks"] == "config.tasks.ResilientRQBackend"
    assert chosen["cache"].endswith("RedisCache")


def test_debug_is_only_on_when_asked():
    assert probe(DJANGO_DEBUG="1")["debug"] is True


@pytest.mark.parametrize(
    ("env", "mentions"),
    [
        ({"DATABASE_URL": "definitely not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql2://x@y/z"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://user@host:5432"}, "names no database"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://127.0.0.1:notaport/0"}, "port"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG"),
        ({"EVENT_RETENTION_DAYS": "-3"}, "EVENT_RETENTION_DAYS"),
        ({"JOBS_INLINE_MODE": "later"}, "JOBS_INLINE_MODE"),
    ],
)
def test_malformed_env_stops_start_up_with_one_line(env, mentions):
    result = run_manage("check", **env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error:")
    assert mentions in lines[0]


def test_production_mode_without_secret_key_explains_itself():
    result = run_python("import config.wsgi", settings_module="config.settings.production")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_mode_with_secret_key_starts():
    result = run_python(
        "import config.wsgi; print('ok')",
        settings_module="config.settings.production",
        DJANGO_SECRET_KEY="x" * 50,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


SQLITE_PROBE = (
    "import json, django; django.setup(); from django.conf import settings; "
    "from django.db import connection; cursor = connection.cursor(); "
    "print(json.dumps({'journal': cursor.execute('PRAGMA journal_mode').fetchone()[0], "
    "'busy_ms': cursor.execute('PRAGMA busy_timeout').fetchone()[0], "
    "'begin': connection.transaction_mode, 'jobs': settings.JOBS_INLINE_MODE}))"
)
OPTIONS_PROBE = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
)


def test_sqlite_is_set_up_for_concurrent_requests(tmp_path):
    """WAL (readers go on while one connection writes), BEGIN IMMEDIATE (a transaction waits
    for the write lock instead of failing at once with "database is locked") and a busy
    timeout; without Redis, jobs go to the writer thread."""
    result = run_python(SQLITE_PROBE, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert result.returncode == 0, result.stderr
    chosen = json.loads(result.stdout)
    assert chosen == {"journal": "wal", "busy_ms": 20_000, "begin": "IMMEDIATE", "jobs": "thread"}


def test_the_embedded_sqlite_file_gets_the_same_options_as_a_sqlite_url(tmp_path):
    result = run_python(OPTIONS_PROBE)
    assert result.returncode == 0, result.stderr
    from_url = run_python(OPTIONS_PROBE, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert json.loads(result.stdout) == json.loads(from_url.stdout)
    assert json.loads(result.stdout)["transaction_mode"] == "IMMEDIATE"


def test_queue_urls_get_a_connect_timeout_unless_the_operator_chose_one():
    from config.env import with_connect_timeout

    assert with_connect_timeout("redis://r:6379/0") == "redis://r:6379/0?socket_connect_timeout=1"
    assert (
        with_connect_timeout("rediss://r:6379/0?ssl_cert_reqs=none")
        == "rediss://r:6379/0?ssl_cert_reqs=none&socket_connect_timeout=1"
    )
    chosen = "redis://r:6379/0?socket_connect_timeout=5"
    assert with_connect_timeout(chosen) == chosen
