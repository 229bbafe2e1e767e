"""The load test: gunicorn (2 workers) + PostgreSQL + Redis + one RQ worker, driven by locust
in headless mode for a bounded time on 127.0.0.1 only.

    .venv/bin/python bench/load/run.py [--seconds 60] [--users 40] [--write docs/benchmarks.md]

It creates (and drops) the PostgreSQL database `bench_load` and uses Redis db 7, loads the demo
site plus 50 members, runs the mix in bench/load/locustfile.py, waits for the queues to drain,
and checks that every event the API accepted is in PostgreSQL. Exit status 1 on any error or
lost event. The site runs with issue 17's render cache on (shared by the workers through Redis);
the output gives its hit rate over the page responses (`X-Render-Cache`, tallied by the
locustfile) after the warm-up and over the whole run. `LOAD_PORT`, `LOAD_DATABASE_URL` and
`LOAD_REDIS_URL` move the run off the defaults (port 8099, `bench_load`, Redis db 7).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import servers  # noqa: E402
from bench.servers import stop  # noqa: E402

PY = sys.executable
PORT = int(os.environ.get("LOAD_PORT", "8099"))
DB_URL = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_load")
REDIS = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/7")
ACCEPTED = Path("/tmp/load-accepted-events.txt")
CACHE_TALLY = Path("/tmp/load-render-cache.json")
WARM_UP = 15  # seconds: the users have spawned (over 5 s) and each page's keys were rendered
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "load-test-" + "x" * 40,
    "DATABASE_URL": DB_URL,
    "REDIS_URL": REDIS,
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_SERVE_MEDIA": "1",
    "DJANGO_LOG_LEVEL": "WARNING",
    "API_THROTTLE_VISITOR": "100000/minute",
    "API_THROTTLE_IP": "1000000/minute",
    "LOAD_ACCEPTED_FILE": str(ACCEPTED),
    "LOAD_CACHE_FILE": str(CACHE_TALLY),
    "LOAD_WARM_UP": str(WARM_UP),
    "RENDER_CACHE_ENABLED": "1",
}


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=ENV, check=True)


def prepare() -> None:
    servers.database(DB_URL, "create")
    subprocess.run(["redis-cli", "-u", REDIS, "FLUSHDB"], check=True, capture_output=True)
    manage("migrate", "--noinput", "-v0")
    manage("collectstatic", "--noinput", "-v0")
    manage("load_demo", "--no-progress")
    manage(
        "shell",
        "-c",
        (
            "from django.contrib.auth import get_user_model as g; U=g()\n"
            "for i in range(50):\n"
            "    e=f'loadmember{i}@example.com'\n"
            "    U.objects.filter(username=e).exists() or U.objects.create_user(e, e, "
            "'load-test-password-1')"
        ),
    )


def start(args: list[str]) -> subprocess.Popen:
    return servers.start(args, cwd=ROOT, env=ENV)


def wait_for_server() -> None:
    import urllib.request

    for _ in range(60):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not start")


def stored_events() -> int:
    sql = "SELECT count(*) FROM events_event WHERE name = 'load-test'"
    return servers.scalar(DB_URL, sql)


def wait_for_drain(expected: int, limit: float = 180) -> int:
    deadline = time.monotonic() + limit
    stored = stored_events()
    while stored < expected and time.monotonic() < deadline:
        time.sleep(2)
        stored = stored_events()
    return stored


def run(seconds: int, users: int) -> tuple[list[dict], int, int]:
    gunicorn = start(
        [
            str(Path(PY).parent / "gunicorn"),
            "config.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--access-logfile",
            "/dev/null",
        ]
    )
    worker = start(
        [
            PY,
            "manage.py",
            "rqworker",
            "default",
            "events",
            "reports",
            "--with-scheduler",
            "--job-class",
            "config.rq_job.Job",
        ]
    )
    cron = start([PY, "manage.py", "rqcron", "personalization.scheduling"])
    try:
        wait_for_server()
        ACCEPTED.unlink(missing_ok=True)
        CACHE_TALLY.unlink(missing_ok=True)
        prefix = "/tmp/load-stats"
        subprocess.run(
            [
                str(Path(PY).parent / "locust"),
                "-f",
                str(ROOT / "bench/load/locustfile.py"),
                "--headless",
                "-u",
                str(users),
                "-r",
                str(max(users // 5, 1)),
                "-t",
                f"{seconds}s",
                "--host",
                f"http://127.0.0.1:{PORT}",
                "--csv",
                prefix,
                "--only-summary",
                "--stop-timeout",
                "10",
            ],
            cwd=ROOT,
            env=ENV,
            check=False,
        )
        accepted = int(ACCEPTED.read_text() or 0) if ACCEPTED.exists() else 0
        stored = wait_for_drain(accepted)
        with open(f"{prefix}_stats.csv") as handle:
            rows = list(csv.DictReader(handle))
        return rows, accepted, stored
    finally:
        stop(gunicorn)
        stop(worker)
        stop(cron)


def hit_rates(tally: dict) -> list[str]:
    """The render cache's hit rate over the page responses, per kind of page and in all, after
    the warm-up and over the whole run."""
    lines = []
    for period in ("after warm-up", "all"):
        counts = tally.get(period, {})
        kinds: dict[str, dict[str, int]] = {}
        for key, n in counts.items():
            name, _, state = key.partition("|")
            kinds.setdefault(name, {})[state] = kinds.get(name, {}).get(state, 0) + n
            kinds.setdefault("all page responses", {})
            kinds["all page responses"][state] = kinds["all page responses"].get(state, 0) + n
        parts = []
        for name in sorted(kinds, key=lambda k: (k == "all page responses", k)):
            states = kinds[name]
            total = sum(states.values())
            rate = states.get("hit", 0) / total if total else 0.0
            others = ", ".join(f"{s} {n:,}" for s, n in sorted(states.items()) if s != "hit")
            parts.append(
                f"{name} **{rate:.1%}** ({states.get('hit', 0):,} of {total:,}"
                f"{'; ' + others if others else ''})"
            )
        when = (
            f"after the first {tally.get('warm_up', WARM_UP):g} s"
            if period != "all"
            else ("over the whole run")
        )
        lines.append(f"Render-cache hit rate {when}: " + "; ".join(parts) + ".")
    return lines


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| endpoint | requests | req/s | p50 | p95 | p99 | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {' '.join(filter(None, (row.get('Type'), row['Name'])))} "
            f"| {int(row['Request Count']):,} | "
            f"{float(row['Requests/s']):.1f} | {row['50%']} ms | {row['95%']} ms | "
            f"{row['99%']} ms | {row['Failure Count']} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--write", help="Markdown file to update with the results")
    args = parser.parse_args()
    prepare()
    rows, accepted, stored = run(args.seconds, args.users)
    errors = sum(int(r["Failure Count"]) for r in rows)
    lines = table(rows)
    summary = (
        f"Events accepted by the API: {accepted:,}; stored in PostgreSQL after the "
        f"queues drained: {stored:,}; lost: {accepted - stored:,}. Errors: {errors}."
    )
    tally = json.loads(CACHE_TALLY.read_text()) if CACHE_TALLY.exists() else {}
    cache_lines = hit_rates(tally)
    print("\n".join(lines))
    print(summary)
    print("\n".join(cache_lines))
    if args.write:
        from bench.report import machine_description, write_section

        write_section(
            Path(args.write),
            "load",
            "Load test",
            [
                f"Command: `.venv/bin/python bench/load/run.py --seconds {args.seconds} "
                f"--users {args.users} --write docs/benchmarks.md`",
                "",
                f"gunicorn with 2 workers, PostgreSQL, Redis and one RQ worker on this machine; "
                f"locust (headless, {args.users} users, {args.seconds} s, 127.0.0.1 only) mixing "
                "anonymous visitors on personalized pages (some from the newsletter), logged-in "
                "members, headless frontends reading pages from the API, and a frontend posting "
                "event batches. Everything, locust included, shares the 2 cores of a machine other "
                "work may share too (compare within a run). The render "
                "cache (issue 17) is on; its hit rate is the share of page responses (site pages "
                "and the API's page reads) whose `X-Render-Cache` is `hit` — `miss` was rendered "
                "and stored, `none` was served without the cache.",
                "",
                *lines,
                "",
                summary,
                "",
                *cache_lines,
                "",
                machine_description(),
            ],
        )
    servers.database(DB_URL, "drop")
    if errors or stored != accepted:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
