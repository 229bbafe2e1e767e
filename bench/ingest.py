"""Event ingestion: sustained events/s from HTTP POST to committed PostgreSQL rows, with 1 and
2 RQ workers, and the latency of the events endpoint meanwhile.

    .venv/bin/python bench/ingest.py [--seconds 20] [--clients 4] [--batch 50] [--rate 5000]
                                     [--paced-runs 3] [--worker-nice 10]
                                     [--write docs/benchmarks.md]

What runs, all on this machine: gunicorn (production settings plus a bench-only URL, gthread,
on a free port) serving POST /api/v1/events/ and POST /bench/events/ (the same events handed
straight to `events_track`, see bench/ingest_site.py), N `manage.py rqworker events` processes
at a lower CPU priority than the web processes (`--worker-nice`),
PostgreSQL (127.0.0.1:5432; the script creates and finally drops the database `bench_ingest`)
and Redis (127.0.0.1:6379 db 5, emptied first). The load generator is this process: `--clients`
threads, each POSTing batches of `--batch` page views (200 visitors, one idempotency key per
event) as fast as the server answers.

For each endpoint and worker count it measures
- end to end: POSTs for `--seconds` while the workers write; the rate is accepted events divided
  by the time from the first POST until the last of them is committed (so a backlog the workers
  leave behind counts against them), with the endpoint's p50/p99 latency during the run;
- the workers alone: a backlog posted while no worker runs, then drained; events/s committed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import servers  # noqa: E402
from bench.report import machine_description, write_section  # noqa: E402
from bench.servers import HOST, PG, database, free_port, stop, wait_for_gunicorn  # noqa: E402

DATABASE = "bench_ingest"
REDIS_URL = "redis://127.0.0.1:6379/5"
VISITORS = 200
PORT = free_port()
LOG = ROOT / "var" / "bench-ingest.log"


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.ingest_settings",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DATABASE_URL": f"{PG}/{DATABASE}",
        "REDIS_URL": REDIS_URL,
        "API_THROTTLE_VISITOR": "100000000/minute",
        "API_THROTTLE_IP": "100000000/minute",
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def stored_events() -> int:
    return servers.scalar(f"{PG}/{DATABASE}", "SELECT count(*) FROM events_event")


def start(command: list[str], nice: int = 0) -> subprocess.Popen:
    """A server process of this bench, its output in var/bench-ingest.log."""
    return servers.start(command, cwd=ROOT, env=environment(), log=LOG, nice=nice)


def gunicorn(workers: int, threads: int) -> subprocess.Popen:
    process = start(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            f"--bind={HOST}:{PORT}",
            f"--workers={workers}",
            "--worker-class=gthread",
            f"--threads={threads}",
            "--log-level=warning",
        ]
    )
    wait_for_gunicorn(process, PORT, "/api/v1/schema/")
    return process


def request(method: str, path: str, body: bytes = b"", headers: dict | None = None, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection(HOST, PORT, timeout=30)
    conn.request(
        method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    response = conn.getresponse()
    data = response.read()
    if own:
        conn.close()
    return response.status, data


def visitor_tokens() -> list[str]:
    return [
        json.loads(request("POST", "/api/v1/visitors/")[1])["visitor_token"]
        for _ in range(VISITORS)
    ]


@dataclass
class Load:
    """What the client threads did: accepted events and each request's latency (ms)."""

    accepted: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Endpoint:
    """Where events are posted, and how a request names its visitor."""

    label: str
    path: str
    header: str
    identities: list[str]


def post_for(
    seconds: float, clients: int, batch: int, endpoint: Endpoint, tag: str, rate: float = 0
) -> Load:
    """POST for `seconds`: as fast as the server answers, or paced to `rate` events/s in all
    (each client keeps its own schedule, so latency is measured at that offered load)."""
    load, deadline = Load(), time.monotonic() + seconds
    interval = clients * batch / rate if rate else 0.0

    def client(number: int) -> None:
        rng, conn, sequence = (
            random.Random(number),
            http.client.HTTPConnection(HOST, PORT, timeout=30),
            0,
        )
        due = time.monotonic() + number * interval / max(clients, 1)
        while time.monotonic() < deadline:
            if interval:
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                due += interval
            events = [
                {
                    "type": "page_view",
                    "idempotency_key": f"{tag}-{number}-{sequence}-{i}",
                    "properties": {"bench": True},
                }
                for i in range(batch)
            ]
            sequence += 1
            body = json.dumps(events).encode()
            began = time.perf_counter()
            try:
                who = {endpoint.header: rng.choice(endpoint.identities)}
                status, _ = request("POST", endpoint.path, body, who, conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn, status = http.client.HTTPConnection(HOST, PORT, timeout=30), 0
            took = (time.perf_counter() - began) * 1000
            with load.lock:
                if status == 202:
                    load.accepted += batch
                    load.latencies.append(took)
                else:
                    load.errors += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return load


def wait_for_rows(expected: int, timeout: float = 300) -> float:
    """Seconds until `expected` rows are committed (polled every 50 ms)."""
    began = time.monotonic()
    while stored_events() < expected:
        if time.monotonic() - began > timeout:
            raise RuntimeError(f"only {stored_events()} of {expected} events committed")
        time.sleep(0.05)
    return time.monotonic()


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else 0.0


def rq_workers(count: int, nice: int, *options: str) -> list[subprocess.Popen]:
    command = [sys.executable, str(ROOT / "bench" / "ingest_worker.py"), *options]
    return [start(command, nice=nice) for _ in range(count)]


def wait_until_listening(count: int, timeout: float = 60) -> None:
    """Until `count` RQ workers have registered (Django loaded: 3.5-6 s of CPU here, which
    would otherwise compete with the first seconds of a measured run), plus a second."""
    from rq import Worker

    connection, deadline = redis.Redis.from_url(REDIS_URL), time.monotonic() + timeout
    while Worker.count(connection=connection) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} RQ worker(s) did not start in {timeout:g} s; see {LOG}")
        time.sleep(0.1)
    time.sleep(1)


def drain_rate(workers: int, args, endpoint: Endpoint, tag: str, *options: str) -> tuple:
    """Post a backlog with no worker running, then time `workers` workers draining it:
    (events/s from the first commit to the last, events)."""
    before = stored_events()
    backlog = post_for(args.seconds / 2, args.clients, args.batch, endpoint, tag)
    fleet = rq_workers(workers, args.worker_nice, *options)
    try:
        while stored_events() == before:  # the workers start and take the first batch
            time.sleep(0.02)
        began, first = time.monotonic(), stored_events() - before
        drained = wait_for_rows(before + backlog.accepted)
    finally:
        for process in fleet:
            stop(process)
    return (backlog.accepted - first) / (drained - began), backlog.accepted


def run(workers: int, args, endpoint: Endpoint) -> dict:
    before = stored_events()
    fleet = rq_workers(workers, args.worker_nice)
    try:
        wait_until_listening(workers)
        began = time.monotonic()
        tag = f"bench-{endpoint.label}-live{workers}"
        load = post_for(args.seconds, args.clients, args.batch, endpoint, tag)
        sent_until = time.monotonic()
        committed_during = stored_events() - before
        done = wait_for_rows(before + load.accepted)
    finally:
        for process in fleet:
            stop(process)

    paced = []
    if args.rate:
        fleet = rq_workers(workers, args.worker_nice)
        try:
            wait_until_listening(workers)
            for number in range(args.paced_runs):
                before = stored_events()
                tag = f"bench-{endpoint.label}-paced{workers}-{number}"
                run = post_for(args.seconds, args.clients, args.batch, endpoint, tag, args.rate)
                wait_for_rows(before + run.accepted)
                paced.append(run)
        finally:
            for process in fleet:
                stop(process)
    drained, backlog = drain_rate(workers, args, endpoint, f"bench-{endpoint.label}-b{workers}")
    what_if = (None, 0)
    if endpoint.label == "pipeline":
        tag = f"bench-{endpoint.label}-w{workers}"
        what_if = drain_rate(workers, args, endpoint, tag, "--without-goal-matching")
    return {
        "endpoint": endpoint.label,
        "workers": workers,
        "accepted_rate": load.accepted / (sent_until - began),
        "committed_during": committed_during / (sent_until - began),
        "end_to_end": load.accepted / (done - began),
        "lag": done - sent_until,
        "p50": percentile(load.latencies, 0.5),
        "p99": percentile(load.latencies, 0.99),
        "errors": load.errors,
        "events": load.accepted,
        "drain_rate": drained,
        "backlog": backlog,
        "what_if": what_if[0],
        "paced": [
            (
                run.accepted / args.seconds,
                percentile(run.latencies, 0.5),
                percentile(run.latencies, 0.99),
            )
            for run in paced
        ],
        "paced_errors": sum(run.errors for run in paced),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50, help="events per POST (API max 100)")
    parser.add_argument(
        "--rate",
        type=float,
        default=5000,
        help="events/s offered in the paced run, where the endpoint's latency is measured "
        "at a sustained load rather than at saturation (0: skip it)",
    )
    parser.add_argument(
        "--paced-runs",
        type=int,
        default=3,
        help="paced runs per endpoint and worker count (p99 varies from run to run on a shared "
        "machine; each run is reported)",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="CPU priority of the RQ workers below the web processes, as the operator guide "
        "recommends on a shared host (0: the same priority)",
    )
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--write", type=Path, help="write the results into this Markdown file")
    args = parser.parse_args()

    database(f"{PG}/{DATABASE}", "create")
    redis.Redis.from_url(REDIS_URL).flushdb()  # the bench's own Redis database
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=environment(),
        check=True,
    )
    web = gunicorn(args.web_workers, args.web_threads)
    try:
        endpoints = [
            Endpoint("API", "/api/v1/events/", "X-Visitor-Token", visitor_tokens()),
            Endpoint(
                "pipeline",
                "/bench/events/",
                "X-Bench-Visitor",
                [str(uuid.uuid4()) for _ in range(VISITORS)],
            ),
        ]
        results = [run(w, args, endpoint) for endpoint in endpoints for w in (1, 2)]
    finally:
        stop(web)
        database(f"{PG}/{DATABASE}", "drop")
    lines = report(results, args)
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "ingest", "Event ingestion", lines)


def report(results: list[dict], args) -> list[str]:
    lines = [
        f"`.venv/bin/python bench/ingest.py --seconds {args.seconds:g} --clients {args.clients} "
        f"--batch {args.batch} --rate {args.rate:g} --paced-runs {args.paced_runs} "
        f"--worker-nice {args.worker_nice}` — gunicorn "
        f"({args.web_workers} gthread workers × "
        f"{args.web_threads} threads, production settings) → POST ({args.batch} page views per "
        f"request, {args.clients} client threads, {VISITORS} visitors) → Redis stream → "
        "`rqworker events` → PostgreSQL, everything on this machine (web, workers, database, "
        "Redis and the load generator share its cores"
        + (
            f"; the RQ workers run at nice {args.worker_nice}, below the web processes, as the "
            "operator guide recommends on a shared host"
            if args.worker_nice
            else ""
        )
        + "). *API* posts to `/api/v1/events/` "
        "(visitor tokens, throttles and full validation of each event); *pipeline* posts the same "
        "events to a "
        "bench-only view that calls `events_track` directly (`bench/ingest_site.py`), which is "
        "the pipeline's own cost.",
        "",
        "| endpoint | RQ workers | accepted | committed while posting "
        "| end to end (POST → committed) | lag after the last POST | endpoint p50 "
        "| endpoint p99 | workers alone (backlog drain) | … without goal matching |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        what_if = f"{r['what_if']:,.0f} events/s" if r["what_if"] else "–"
        lines.append(
            f"| {r['endpoint']} | {r['workers']} | {r['accepted_rate']:,.0f} events/s "
            f"| {r['committed_during']:,.0f} events/s "
            f"| **{r['end_to_end']:,.0f} events/s** ({r['events']:,} events) | {r['lag']:.1f} s "
            f"| {r['p50']:.1f} ms | **{r['p99']:.1f} ms** | {r['drain_rate']:,.0f} events/s "
            f"({r['backlog']:,} events) "
            f"| {what_if} |"
        )
    if args.rate:
        lines += [
            "",
            f"Paced: the same setup with the clients offering {args.rate:,.0f} events/s "
            f"({args.rate / args.batch:,.0f} POSTs/s) for {args.seconds:g} s, "
            f"{args.paced_runs} run(s) in a row on the same workers — the endpoint's latency at "
            "a sustained load, not at saturation:",
            "",
            "| endpoint | RQ workers | run | events/s accepted | endpoint p50 | endpoint p99 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in results:
            for number, (rate, p50, p99) in enumerate(r["paced"], start=1):
                lines.append(
                    f"| {r['endpoint']} | {r['workers']} | {number} | {rate:,.0f} "
                    f"| {p50:.1f} ms | **{p99:.1f} ms** |"
                )
    errors = sum(r["errors"] + r["paced_errors"] for r in results)
    lines += [
        "",
        "*Without goal matching* runs the same workers with the experiments app's "
        "`events_stored` receiver (goal matching) disconnected (bench/ingest_worker.py): "
        "a what-if showing the pipeline's own cost.",
        "",
        f"Requests refused or failed: {errors}. Every accepted event was committed exactly once "
        "(the script waits for the exact row count). Targets: ≥ 5,000 events/s committed, p99 < "
        "10 ms.",
        "",
        machine_description(),
    ]
    return lines


if __name__ == "__main__":
    main()
