"""The fault run: bounded loopback load (site pages, API page reads, event posts) against the
production setup while Redis is killed and restarted and while an RQ worker is killed — every
answer counted, every accepted event looked for in PostgreSQL.

    .venv/bin/python bench/fault.py [--seconds 60] [--clients 4] [--redis-down-at 10]
                                    [--redis-down-for 15] [--worker-kill-at 35]
                                    [--write docs/benchmarks.md]

What runs, all on this machine: gunicorn (production settings, 2 gthread workers × 4 threads, a
free port), two `manage.py rqworker default events reports` (nice 10) and one `rqcron
personalization.scheduling`, PostgreSQL (127.0.0.1:5432; the database `bench_fault` is created
and finally dropped) and a private `redis-server` on a free port with the persistence the
operator guide requires (`appendonly yes`, `appendfsync always`, files in a temporary directory).
The bench plays systemd: a process that ends is started again 5 s later (`Restart=always`,
`RestartSec=5`), and every such restart is reported.

Timeline (seconds from the start of the load): Redis is killed (SIGKILL, no shutdown save) at
`--redis-down-at` and started again from its files on the same port `--redis-down-for` seconds
later; at `--worker-kill-at` one worker is killed (SIGKILL, with its work horse). Clients stop at
`--seconds` (or after `--max-requests` each); the bench then waits until the queues drained.
Exit status 1 on any 5xx or any accepted event not stored exactly once.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import servers  # noqa: E402
from bench.report import machine_description, write_section  # noqa: E402
from bench.servers import HOST, PG, free_port, wait_for_gunicorn  # noqa: E402

DATABASE_URL = f"{PG}/bench_fault"
LOG = ROOT / "var" / "bench-fault.log"
PAGES = ["/", "/dogs/", "/cats/", "/dogs/choosing-dog-food/", "/cats/indoor-cat-enrichment/"]
RESTART_SECONDS = 5.0
WORKER = [
    *("manage.py", "rqworker", "default", "events", "reports"),
    *("--with-scheduler", "--job-class", "config.rq_job.Job"),
]
KINDS = ("site page", "API page", "event post")


def environment(redis_url: str) -> dict[str, str]:
    """The production settings of every process of the run."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "bench-fault-secret-key-" + "x" * 40,
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": redis_url,
        "DJANGO_LOG_LEVEL": "WARNING",
        "API_THROTTLE_VISITOR": "100000000/minute",
        "API_THROTTLE_IP": "100000000/minute",
    }


# PROCESSES (the bench as their supervisor)
# ------------------------------------------------------------------------------


@dataclass
class Service:
    """One supervised process: started again `RESTART_SECONDS` after it ends, as systemd would."""

    name: str
    command: list[str]
    env: dict[str, str]
    nice: int = 0
    process: subprocess.Popen | None = None
    exits: list[tuple[float, int]] = field(default_factory=list)  # (time, return code)
    killed_by_bench: int = 0
    restart_due: float | None = None

    def start(self) -> None:
        self.process = servers.start(self.command, cwd=ROOT, env=self.env, log=LOG, nice=self.nice)
        self.restart_due = None

    def watch(self, now: float) -> None:
        """Notice an exit and restart when due."""
        if self.process is not None and self.restart_due is None:
            code = self.process.poll()
            if code is not None:
                self.exits.append((now, code))
                self.restart_due = now + RESTART_SECONDS
        if self.restart_due is not None and now >= self.restart_due:
            self.start()

    def kill(self) -> None:
        """SIGKILL the process and its work horse (RQ puts the horse in a group of its own)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        horses = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        self.killed_by_bench += 1
        for pid in [self.process.pid, *horses]:
            with contextlib.suppress(ProcessLookupError):  # the horse had finished
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            servers.stop(self.process)

    @property
    def exits_on_its_own(self) -> int:
        return len(self.exits) - self.killed_by_bench


class Supervisor(threading.Thread):
    """Checks every service twice a second."""

    def __init__(self, services: list[Service]) -> None:
        super().__init__(daemon=True)
        self.services, self.done = services, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for service in self.services:
                service.watch(time.monotonic())
            time.sleep(0.5)


class PrivateRedis:
    """The run's own redis-server, with AOF fsynced on every write, in a temporary directory."""

    def __init__(self, directory: Path) -> None:
        self.port, self.directory = free_port(), directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", HOST]
        command += ["--dir", str(self.directory), "--save", ""]
        command += ["--appendonly", "yes", "--appendfsync", "always"]
        command += ["--maxmemory-policy", "noeviction"]
        self.process = servers.start(command, cwd=ROOT, log=LOG)
        for _ in range(100):
            try:
                self.client().ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def client(self) -> redis.Redis:
        return redis.Redis(host=HOST, port=self.port, socket_timeout=2, decode_responses=True)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def persistence(self) -> str:
        config = self.client().config_get("append*")
        return ", ".join(f"{name} {config[name]}" for name in ("appendonly", "appendfsync"))


# LOAD
# ------------------------------------------------------------------------------


@dataclass
class Answer:
    kind: str
    path: str
    status: int  # 0: no HTTP answer (connection refused or reset)
    ms: float
    redis_down: bool


@dataclass
class Load:
    """The clients' shared record."""

    port: int
    tag: str
    deadline: float
    max_requests: int
    redis_down: threading.Event = field(default_factory=threading.Event)
    answers: list[Answer] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, number: int) -> None:
        """Pages, API reads and event posts in turn, until the deadline or `max_requests`."""
        rng, sequence = random.Random(number), 0
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        cookie, token = "", self.visitor_token(conn)
        while time.monotonic() < self.deadline and sequence < self.max_requests:
            page = rng.choice(PAGES)
            kind = KINDS[sequence % 3]
            if kind == "site page":
                conn, _, headers = self.ask(conn, kind, "GET", page, headers={"Cookie": cookie})
                cookie = _cookie(headers, cookie)
            elif kind == "API page":
                path = f"/api/v1/pages/find/?path={page}"
                conn, _, _ = self.ask(conn, kind, "GET", path, headers={"X-Visitor-Token": token})
            else:
                keys = [f"{self.tag}-{number}-{sequence}-{i}" for i in range(5)]
                events = [
                    {"type": "goal", "name": "fault-run", "idempotency_key": key} for key in keys
                ]
                conn, status, _ = self.ask(
                    conn, kind, "POST", "/api/v1/events/", json.dumps(events).encode(),
                    {"X-Visitor-Token": token, "Content-Type": "application/json"},
                )  # fmt: skip
                if status == 202:
                    with self.lock:
                        self.accepted.update(keys)
            sequence += 1
            time.sleep(0.02)
        conn.close()

    def visitor_token(self, conn) -> str:
        conn.request("POST", "/api/v1/visitors/")
        return json.loads(conn.getresponse().read())["visitor_token"]

    def ask(self, conn, kind: str, method: str, path: str, body: bytes = b"", headers=None):
        """One request; a dropped connection is reopened and counted as status 0."""
        down, began = self.redis_down.is_set(), time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            response.read()
            status, answer_headers = response.status, response.getheaders()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            status, answer_headers = 0, []
        took = (time.perf_counter() - began) * 1000
        with self.lock:
            self.answers.append(Answer(kind, path, status, took, down))
        return conn, status, answer_headers


def _cookie(headers: list[tuple[str, str]], current: str) -> str:
    """The visitor cookie (`pv`) the site set, else the one the client already had."""
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("pv="):
            return value.split(";", 1)[0]
    return current


# THE RUN
# ------------------------------------------------------------------------------


def stored(tag: str) -> tuple[int, set[str]]:
    """Rows of this run's events, and their distinct idempotency keys."""
    import psycopg

    with psycopg.connect(DATABASE_URL) as conn:
        keys = [
            row[0]
            for row in conn.execute(
                "SELECT idempotency_key FROM events_event WHERE idempotency_key LIKE %s",
                [f"{tag}-%"],
            )
        ]
    return len(keys), set(keys)


def run(args) -> dict:
    tag = f"fault-{uuid.uuid4().hex[:8]}"
    LOG.parent.mkdir(exist_ok=True)
    LOG.write_text("")
    with tempfile.TemporaryDirectory(prefix="bench-fault-redis-") as directory:
        redis = PrivateRedis(Path(directory))
        redis.start()
        env = environment(redis.url)
        servers.prepare_demo(DATABASE_URL, env, ROOT)
        port = free_port()
        gunicorn = [
            str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", f"--bind={HOST}:{port}",
            "--workers=2", "--worker-class=gthread", "--threads=4", "--log-level=warning",
        ]  # fmt: skip
        web = Service("web", gunicorn, env)
        workers = [Service(f"worker {n}", [sys.executable, *WORKER], env, 10) for n in (1, 2)]
        rqcron = [sys.executable, "manage.py", "rqcron", "personalization.scheduling"]
        cron = Service("cron", rqcron, env, 10)
        services = [web, *workers, cron]
        for service in services:
            service.start()
        supervisor = Supervisor(services)
        try:
            wait_for_gunicorn(web.process, port, "/")
            supervisor.start()
            result = load_with_faults(args, port, tag, redis, workers[0])
            result["persistence"] = redis.persistence()
            result["settle"] = wait_for_storage(tag, len(result["accepted"]), args.settle_limit)
            result["rows"], result["keys"] = stored(tag)
        finally:
            supervisor.done.set()
            for service in reversed(services):
                service.stop()
            if redis.process is not None and redis.process.poll() is None:
                redis.kill()
            servers.database(DATABASE_URL, "drop")
    result["restarts"] = {s.name: (len(s.exits), s.killed_by_bench) for s in services}
    result["errors"] = server_errors(LOG.read_text())
    return result


def load_with_faults(args, port: int, tag: str, redis: PrivateRedis, victim: Service) -> dict:
    """Start the clients, then break things on schedule while they run."""
    began = time.monotonic()
    load = Load(port, tag, began + args.seconds, args.max_requests)
    clients = [threading.Thread(target=load.client, args=(n,)) for n in range(args.clients)]
    for client in clients:
        client.start()
    timeline = []

    def at(second: float) -> None:
        time.sleep(max(0.0, began + second - time.monotonic()))

    at(args.redis_down_at)
    redis.kill()
    load.redis_down.set()
    timeline.append(f"Redis killed (SIGKILL) at {time.monotonic() - began:.1f} s")
    at(args.redis_down_at + args.redis_down_for)
    redis.start()
    load.redis_down.clear()
    timeline.append(f"started again at {time.monotonic() - began:.1f} s")
    at(args.worker_kill_at)
    victim.kill()
    timeline.append(f"a worker killed (SIGKILL) at {time.monotonic() - began:.1f} s")
    for client in clients:
        client.join()
    return {"answers": load.answers, "accepted": load.accepted, "timeline": timeline, "tag": tag}


def wait_for_storage(tag: str, expected: int, limit: float) -> float | None:
    """Seconds after the load until every accepted event is stored (None: not within `limit`)."""
    began = time.monotonic()
    while time.monotonic() - began < limit:
        if len(stored(tag)[1]) >= expected:
            return time.monotonic() - began
        time.sleep(2)
    return None


def server_errors(log: str) -> Counter:
    """Django's "Internal Server Error: <path>" lines and the exception that ended each
    traceback in the servers' log."""
    found: Counter = Counter()
    lines = log.splitlines()
    for number, line in enumerate(lines):
        if "Internal Server Error:" in line:
            found[line.split("Internal Server Error:", 1)[1].strip()] += 1
        if line.startswith("Traceback"):
            for following in lines[number + 1 :]:
                if following and not following.startswith((" ", "\t")):
                    found[f"exception: {following[:160]}"] += 1
                    break
    return found


# REPORT
# ------------------------------------------------------------------------------


def p99(values: list[float]) -> str:
    if len(values) < 2:
        return "–"
    return f"{statistics.quantiles(values, n=100)[98]:.0f} ms"


def report(result: dict, args) -> list[str]:
    answers: list[Answer] = result["answers"]
    rows, keys, accepted = result["rows"], result["keys"], result["accepted"]
    lines = [
        f"`.venv/bin/python bench/fault.py --seconds {args.seconds:g} --clients {args.clients} "
        f"--redis-down-at {args.redis_down_at:g} --redis-down-for {args.redis_down_for:g} "
        f"--worker-kill-at {args.worker_kill_at:g}` — gunicorn (production settings, 2 gthread "
        "workers × 4 threads), two RQ workers (nice 10) and the RQ cron process, PostgreSQL and a "
        "private redis-server, all on this machine, each process restarted 5 s after it ends "
        "(as `Restart=always` would); "
        f"{args.clients} client threads cycle site page → API page → event post (5 events). "
        f"Redis persistence: **{result['persistence']}**. Timeline: "
        + "; ".join(result["timeline"])
        + ".",
        "",
        "| requests | all | 2xx/3xx | 4xx | 5xx | no answer | p99 | during the Redis outage | "
        "5xx then | p99 then |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in KINDS:
        mine = [a for a in answers if a.kind == kind]
        down = [a for a in mine if a.redis_down]
        count = Counter(_status_class(a.status) for a in mine)
        lines.append(
            f"| {kind} | {len(mine):,} | {count['ok']:,} | {count['4xx']:,} | {count['5xx']:,} | "
            f"{count['none']:,} | {p99([a.ms for a in mine])} | {len(down):,} | "
            f"{sum(a.status >= 500 for a in down):,} | {p99([a.ms for a in down])} |"
        )
    fives = sum(a.status >= 500 for a in answers)
    lost = len(accepted - keys)
    settle = result["settle"]
    restarts = ", ".join(
        f"{name} {exits - killed} on its own" + (f" + {killed} killed" if killed else "")
        for name, (exits, killed) in result["restarts"].items()
    )
    lines += [
        "",
        f"**{fives} × 5xx.** Events accepted (202): {len(accepted):,}; stored: {rows:,} rows, "
        f"{len(keys & accepted):,} of the accepted keys, duplicates: {rows - len(keys):,}, "
        f"lost: {lost:,} — "
        + ("accepted = stored, exactly once" if not lost and rows == len(keys) == len(accepted)
           else "**NOT exactly once**")
        + (f"; all stored {settle:.0f} s after the load ended." if settle is not None else "."),
        f"Process exits (each restarted by the bench 5 s later): {restarts} — the workers wait "
        "for Redis and reconnect (config.rq_worker).",
    ]  # fmt: skip
    if result["errors"]:
        detail = "; ".join(f"{what} × {n}" for what, n in result["errors"].most_common(12))
        lines.append(f"Server errors in the log: {detail}.")
    lines += ["", machine_description()]
    return lines


def _status_class(status: int) -> str:
    if status == 0:
        return "none"
    if status >= 500:
        return "5xx"
    return "4xx" if status >= 400 else "ok"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--max-requests", type=int, default=20_000, help="per client")
    parser.add_argument("--redis-down-at", type=float, default=10)
    parser.add_argument("--redis-down-for", type=float, default=15)
    parser.add_argument("--worker-kill-at", type=float, default=35)
    parser.add_argument("--settle-limit", type=float, default=300, help="seconds to wait")
    parser.add_argument("--write", type=Path, help="write the results into this Markdown file")
    args = parser.parse_args()
    result = run(args)
    lines = report(result, args)
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "fault", "Fault run: Redis and a worker killed under load", lines)
    answers = result["answers"]
    failed = any(a.status >= 500 for a in answers) or result["accepted"] - result["keys"]
    sys.exit(1 if failed or result["rows"] != len(result["keys"]) else 0)


if __name__ == "__main__":
    main()
