"""The side-by-side that matters most: the same page served plain and personalized with 10 and
100 segments, requests/s and SQL queries per request, in one run.

    .venv/bin/python bench/pages.py [--seconds 10] [--rounds 3] [--clients 4]
                                    [--write docs/benchmarks.md]

What runs, all on this machine: gunicorn (production settings, 2 sync workers, on a free port)
with PostgreSQL (127.0.0.1:5432; the script creates and finally drops the database
`bench_pages`) and Redis (127.0.0.1:6379 db 8, emptied first, the cache and the event stream).
The demo site is loaded, then two content pages with the same blocks (heading, text, image,
text) are added:

- *plain*: the blocks as they are — no personalized block, so no segment is ever consulted;
- *personalized*: the first three blocks inside a per-segment block with a variant for each of
  10 demo segments (heading, text and a different image each) and the plain blocks as default.

The personalized page is served with 10 segments enabled (the demo's) and with 100 (90 more
segments with 1 to 5 rules over profile, behaviour, purchases, context and traits, drawn as
bench/segments.py draws them). Every request carries the signed cookie of one of 300 visitors
(declared traits, browsing, cart and purchase history), so the visitor is
loaded and the segments evaluated for real. The client threads of this process request each
configuration for `--seconds`, the three configurations interleaved for `--rounds` rounds;
the table shows the median round. Queries per request are counted in-process on the same
database with Django's test client (steady state, after one warm-up request per visitor).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.servers import HOST, PG, database, free_port, start, stop, wait_for_gunicorn  # noqa: E402

DATABASE = "bench_pages"
REDIS_URL = "redis://127.0.0.1:6379/8"
VISITORS = 300
SEGMENTS = 100
PORT = free_port()
ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "bench-pages-secret-key-" + "x" * 40,
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_SERVE_MEDIA": "1",
    "DJANGO_ALLOWED_HOSTS": f"{HOST},testserver",
    "DATABASE_URL": f"{PG}/{DATABASE}",
    "REDIS_URL": REDIS_URL,
    "DJANGO_LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)  # this process sets up the pages and counts queries on the same database


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)  # noqa: S603


def gunicorn() -> subprocess.Popen:
    command = [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", f"--bind={HOST}:{PORT}"]
    process = start([*command, "--workers=2", "--log-level=warning"], cwd=ROOT)
    wait_for_gunicorn(process, PORT)
    return process


def get(path: str, cookie: str = "") -> tuple[int, bytes, str]:
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read(), response.getheader("Server", "")
    finally:
        conn.close()


# THE SITE UNDER TEST
# ------------------------------------------------------------------------------


def block(block_type: str, value) -> dict:
    return {"type": block_type, "value": value}


def build_site(rng: random.Random) -> dict:
    """The two pages, the 90 extra segments (disabled for now) and the visitors' cookies."""
    from django.conf import settings
    from django.core import signing
    from wagtail.images import get_image_model

    from bench.segments import random_condition
    from cms.models import ContentPage, HomePage
    from personalization.middleware import VISITOR_SALT
    from personalization.models import Segment, Visitor

    images = list(get_image_model().objects.order_by("pk").values_list("pk", flat=True))
    home = HomePage.objects.get()

    def content(title: str, image: int) -> list[dict]:
        return [
            block("heading", {"text": title, "level": "h2"}),
            block("paragraph", f"<p>{title}: food, care and play picked for you. " * 3 + "</p>"),
            block("image", {"image": image, "alt_text": title, "caption": title}),
        ]

    rest = [block("paragraph", "<p>Free delivery over ¥3,000, returns within 30 days.</p>")]
    demo = list(Segment.objects.order_by("priority", "pk")[:10])
    variants = [
        {"segment": str(s.pk), "content": content(s.name, images[i % len(images)])}
        for i, s in enumerate(demo)
    ]
    default = content("This month at Pawprint Club", images[0])
    pages = {}
    for slug, body in (
        ("bench-plain", default + rest),
        (
            "bench-personalized",
            [block("personalized", {"variants": variants, "default": default})] + rest,
        ),
    ):
        page = ContentPage(title=slug.replace("-", " ").title(), slug=slug, intro="A bench page.")
        page.body = body
        home.add_child(instance=page)
        page.save_revision().publish()
        pages[slug] = page.url

    for i in range(SEGMENTS - Segment.objects.count()):
        Segment.objects.create(
            slug=f"bench-{i}",
            name=f"Bench segment {i}",
            priority=200 + i,
            advanced=True,
            condition=random_condition(rng),
            enabled=False,
        )

    cookies = []
    for _ in range(VISITORS):
        visitor = Visitor.objects.create(
            traits=rng.choice([{}, {"name": "Mika", "pet": "dog"}, {"name": "Sora", "pet": "cat"}]),
            visit_count=rng.randint(1, 30),
            page_view_count=rng.randint(1, 200),
            section_views=rng.choice([{}, {"dogs": rng.randint(1, 9)}, {"cats": 4, "members": 2}]),
            cart=rng.choice([{}, {"count": 2, "value": 4200}]),
            purchase_count=(n := rng.choice([0, 0, 1, 6])),
            total_spend=Decimal(n * rng.choice([3000, 9000])),
        )
        name = settings.VISITOR_COOKIE_NAME  # as HttpResponse.set_signed_cookie signs it
        signed = signing.get_cookie_signer(salt=name + VISITOR_SALT).sign(str(visitor.uuid))
        cookies.append(f"{name}={signed}")
    return {"pages": pages, "cookies": cookies, "demo": [s.pk for s in demo]}


def enable_segments(count: int, demo: list[int]) -> int:
    """Enable the 10 demo segments of the page, plus bench ones up to `count`; returns how many
    are enabled (the resolver's version token is bumped, every server process reloads)."""
    from personalization.models import Segment
    from personalization.resolver import bump_segment_set_version

    Segment.objects.update(enabled=False)
    Segment.objects.filter(pk__in=demo).update(enabled=True)
    extra = Segment.objects.exclude(pk__in=demo).order_by("pk")[: count - len(demo)]
    Segment.objects.filter(pk__in=list(extra.values_list("pk", flat=True))).update(enabled=True)
    bump_segment_set_version()
    return Segment.objects.filter(enabled=True).count()


def queries_per_request(path: str, cookies: list[str]) -> float:
    """Mean SQL queries of a request, steady state, counted on the same database."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = []
    for cookie in cookies[:40]:
        client = Client()
        client.cookies.load(cookie)
        assert client.get(path).status_code == 200  # warm-up (the resolver compiles once)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        counts.append(len(queries))
    return statistics.mean(counts)


# THE LOAD
# ------------------------------------------------------------------------------


@dataclass
class Round:
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    segments: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def hammer(path: str, cookies: list[str], seconds: float, clients: int) -> tuple[Round, float]:
    result, deadline = Round(), time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                status, body, _ = get(path, rng.choice(cookies))
            except (OSError, http.client.HTTPException):
                status, body = 0, b""
            took = (time.perf_counter() - began) * 1000
            marker = body.find(b'data-segment="')
            with result.lock:
                if status == 200:
                    result.requests += 1
                    result.latencies.append(took)
                    if marker >= 0:
                        end = body.find(b'"', marker + 14)
                        result.segments.add(body[marker + 14 : end].decode())
                else:
                    result.errors += 1

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result, time.monotonic() - began


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1] if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--write", type=Path, help="write the results into this Markdown file")
    args = parser.parse_args()

    import django
    import redis

    database(f"{PG}/{DATABASE}", "create")
    redis.Redis.from_url(REDIS_URL).flushdb()
    manage("migrate", "--noinput", "-v", "0")
    manage("collectstatic", "--noinput", "-v", "0")
    manage("load_demo", "--no-progress")
    django.setup()
    site = build_site(random.Random(7))
    plain, personalized = site["pages"]["bench-plain"], site["pages"]["bench-personalized"]
    configurations = [
        ("plain (no personalized block)", plain, 10),
        ("personalized, 10 segments", personalized, 10),
        ("personalized, 100 segments", personalized, SEGMENTS),
    ]
    web = gunicorn()
    rows = {label: [] for label, _, _ in configurations}
    queries, enabled = {}, {}
    try:
        for label, path, segments in configurations:
            enabled[label] = enable_segments(segments, site["demo"])
            queries[label] = queries_per_request(path, site["cookies"])
        for _ in range(args.rounds):
            for label, path, segments in configurations:
                enable_segments(segments, site["demo"])
                hammer(path, site["cookies"], 2, args.clients)  # warm-up: reload, compile
                result, took = hammer(path, site["cookies"], args.seconds, args.clients)
                rows[label].append((result.requests / took, result, took))
    finally:
        stop(web)
        from django.db import connections

        connections.close_all()
        database(f"{PG}/{DATABASE}", "drop")
        redis.Redis.from_url(REDIS_URL).flushdb()

    lines = report(configurations, rows, queries, enabled, args)
    print("\n".join(lines))
    if args.write:
        from bench.report import write_section

        write_section(args.write, "pages", "Plain vs personalized page", lines)


def report(configurations, rows, queries, enabled, args) -> list[str]:
    from bench.report import machine_description

    baseline = statistics.median(rate for rate, _, _ in rows[configurations[0][0]])
    lines = [
        f"`.venv/bin/python bench/pages.py --seconds {args.seconds:g} --rounds {args.rounds} "
        f"--clients {args.clients}` — gunicorn (2 sync workers, production settings, PostgreSQL "
        f"and Redis) serving the same content page plain and personalized, {args.clients} client "
        f"threads on this machine, each request with the cookie of one of {VISITORS} visitors; "
        f"{args.rounds} interleaved rounds of {args.seconds:g} s per configuration, median round "
        "shown. Queries per request: mean over 40 visitors, steady state.",
        "",
        "| page | segments enabled | requests/s | vs plain | each round | p50 | p99 | SQL queries "
        "per request | segments chosen | errors |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for label, _, _ in configurations:
        ordered = sorted(rows[label], key=lambda row: row[0])
        rate, result, _ = ordered[len(ordered) // 2]
        errors = sum(r.errors for _, r, _ in rows[label])
        chosen = len(result.segments) if result.segments else "–"
        lines.append(
            f"| {label} | {enabled[label] if 'personalized,' in label else '–'} "
            f"| **{rate:,.0f}** | {rate / baseline:.2f}× "
            f"| {' / '.join(f'{r:,.0f}' for r, _, _ in rows[label])} "
            f"| {percentile(result.latencies, 0.5):.1f} "
            f"ms | {percentile(result.latencies, 0.99):.1f} ms | {queries[label]:.1f} | {chosen} "
            f"| {errors} |"
        )
    lines += [
        "",
        "*Segments chosen*: how many different variants (segment ids or `default`) the "
        "personalized page served in the median round — the visitors really get different "
        "content. Target: personalized at 100 segments ≥ 0.9× the plain page's requests/s, "
        "with queries per request independent of the number of segments.",
        "",
        machine_description(),
    ]
    return lines


if __name__ == "__main__":
    main()
