"""The side-by-side that matters most: the same page served by a stock Wagtail site, by
wagtail-personalisation at 100 segments, and by ours plain and personalized with 10 and 100
segments — requests/s, latency and SQL queries per request, in one run.

    .venv/bin/python bench/pages.py [--seconds 10] [--rounds 3] [--clients 4] [--no-peers]
                                    [--no-varnish] [--write docs/benchmarks.md]

What runs, all on this machine: one gunicorn per project, each with the same command line
(`gunicorn querycount:application --workers=2`, sync workers, production settings, a free
loopback port), PostgreSQL (127.0.0.1:5432; the script creates and finally drops one database
per project: `bench_pages`, `bench_peers_stock`, `bench_peers_wp`; `BENCH_PAGES_PREFIX=x` names
them `x_pages`, … so that two runs on one machine do not meet) and Redis (127.0.0.1:6379 db 8,
or `BENCH_PAGES_REDIS_URL`, emptied first; each project's cache under its own key prefix).
The demo site is loaded, then two content pages with the same blocks (heading, text, image,
text, call to action, quote) are added:

- *plain*: the blocks as they are — no personalized block, so no segment is ever consulted;
- *personalized*: the first three blocks inside a per-segment block with a variant for each of
  10 demo segments (heading, text and a different image each) and the plain blocks as default.

The baselines (bench/peers/README.md) get the same page from a spec this script writes (same
text, same image files, same navigation): *stock Wagtail* — a Wagtail 8 project with the same
blocks and templates and no personalization app, from the project's .venv; and
*wagtail-personalisation 1.0* — the same page with one PersonalisedStructBlock per variant
segment and 100 segments of 1 to 5 rules, from the throw-away venv of
bench/peers/make_venv.sh (made on first use).

Our personalized page is served with 10 segments enabled (the demo's) and with 100 (90 more
segments with 1 to 5 rules over profile, behaviour, purchases, context and traits, drawn as
bench/segments.py draws them). Every request to ours carries the signed cookie of one of 300
visitors (declared traits, browsing, cart and purchase history), so the visitor is loaded and
the segments evaluated for real; wagtail-personalisation's get the session cookie of one of 300
visitors (its segments live in the session); the stock page is requested without a cookie.
Neither baseline's segments match the bench's visitors. The client threads of this process
request each configuration for `--seconds`, all configurations interleaved for `--rounds`
rounds; the table shows the median round. SQL queries per request are counted server-side for
every project alike by the WSGI wrapper bench/peers/querycount.py (an `X-Bench-Queries` header),
mean over the median round's requests.

Issue 17's render cache runs on two more servers of ours, the same command line with
RENDER_CACHE_ENABLED=1 (the render cache shares its entries between the workers through the
Redis above): *cold* — the cache emptied (a new content generation, and the segment-set version
every round bumps) right before the round and no warm-up, so its first requests render and
store; *warm* — after the 2 s warm-up, for the bench's visitors and for 50 logged-in members
(a session cookie each; their hit's query budget is 2); and *through Varnish* — Debian's
varnishd (`deploy/varnish/default.vcl`, malloc storage, a free loopback port, as
tests/e2e/test_edge_varnish.py starts it) in front of a server in edge mode
(RENDER_CACHE_EDGE=1). Every request to ours also carries a CSRF cookie, as a returning
browser's does (without one the edge refuses to share a page: its response would set it). The
render cache's hit rate is the share of responses whose `X-Render-Cache` starts with "hit",
Varnish's the share with `X-Cache: HIT`. Behind Varnish the client sees no query count for a
page view (a hit's headers are the stored copy's), so the origin's SQL queries and requests per
page view come from the query-counting wrapper's running totals (bench/peers/querycount.py,
`BENCH_TOTALS_DIR`) over the round: the key lookup (`/api/v1/decide/`) and the ESI includes of
the holes that each page view still asks of the origin.

A `Configuration` names the server it is measured on (a key of the servers dict), a
`prepare` run before each measurement, whether it is warmed up first, and a `hit_header`
whose value starting with "hit" counts a response as a cache hit (the table's hit rate).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.servers import HOST, PG, database, free_port, start, stop, wait_for_gunicorn  # noqa: E402

PREFIX = os.environ.get("BENCH_PAGES_PREFIX", "bench")
DATABASE = f"{PREFIX}_pages"
REDIS_URL = os.environ.get("BENCH_PAGES_REDIS_URL", "redis://127.0.0.1:6379/8")
VISITORS = 300
SEGMENTS = 100
PEERS = ROOT / "bench" / "peers"
PEERS_VAR = ROOT / "var" / "peers"  # git-ignored: the peers' venv, media and spec
PEERS_VENV = PEERS_VAR / "wp-venv"
# Every request of every configuration: a desktop browser (wagtail-personalisation's device
# rule parses it; ours and stock Wagtail ignore it).
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
GUNICORN_ARGS = ["querycount:application", "--workers=2", "--log-level=warning"]
ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "bench-pages-secret-key-" + "x" * 40,
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_SERVE_MEDIA": "1",
    "DJANGO_ALLOWED_HOSTS": f"{HOST},testserver",
    "DATABASE_URL": f"{PG}/{DATABASE}",
    "REDIS_URL": REDIS_URL,
    "DJANGO_LOG_LEVEL": "WARNING",
    # The rows measured here are uncached: issue 17's render cache (where it exists) is off; a
    # configuration measuring it runs on a server started with it on.
    "RENDER_CACHE_ENABLED": "0",
}
os.environ.update(ENV)  # this process sets up our pages on the same database

MEMBERS = 50
# A returning browser's CSRF cookie (Django's 32-character secret): see the docstring.
CSRF_COOKIE = "csrftoken=" + "b" * 32
VCL = ROOT / "deploy" / "varnish" / "default.vcl"


@dataclass
class Peer:
    """A baseline project under bench/peers: where it lives and what runs it."""

    key: str
    directory: str
    settings: str
    database: str
    python: Path
    setup_args: tuple[str, ...] = ()

    @property
    def cwd(self) -> Path:
        return PEERS / self.directory

    @property
    def env(self) -> dict[str, str]:
        media = PEERS_VAR / f"media-{self.key}"
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": self.settings,
            "BENCH_DATABASE_URL": f"{PG}/{self.database}",
            "BENCH_REDIS_URL": REDIS_URL,
            "BENCH_CACHE_PREFIX": self.key,
            "BENCH_MEDIA_ROOT": str(media),
            "BENCH_SECRET_KEY": ENV["DJANGO_SECRET_KEY"],
            "BENCH_ALLOWED_HOSTS": ENV["DJANGO_ALLOWED_HOSTS"],
        }


PEER_LIST = [
    Peer(
        "stock",
        "stock_wagtail",
        "stock_site.settings",
        f"{PREFIX}_peers_stock",
        ROOT / ".venv/bin/python",
    ),
    Peer(
        "wp",
        "wagtail_personalisation",
        "wp_site.settings",
        f"{PREFIX}_peers_wp",
        PEERS_VENV / "bin/python",
        ("--segments", str(SEGMENTS), "--visitors", str(VISITORS)),
    ),
]


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)  # noqa: S603


def collect_static() -> None:
    """collectstatic, unless the manifest already lists every static file of the project and is
    newer than all of them: with compression it takes minutes on a busy 2-core machine, and the
    bench pages only need the manifest's entries."""
    manifest = ROOT / "var" / "static" / "staticfiles.json"
    sources = [
        path
        for directory in (ROOT / "static", *ROOT.glob("*/static"), *ROOT.glob("*/*/static"))
        if ".venv" not in directory.parts and directory.parts[-2] != "var"
        for path in directory.rglob("*")
        if path.is_file()
    ]
    if manifest.exists() and sources:
        listed = json.loads(manifest.read_text()).get("paths", {})
        fresh = manifest.stat().st_mtime >= max(path.stat().st_mtime for path in sources)
        names = [
            str(path.relative_to(next(p for p in path.parents if p.name == "static")))
            for path in sources
        ]
        if fresh and all(name in listed for name in names):
            return
    manage("collectstatic", "--noinput", "-v", "0")


def gunicorn(python: Path, application: str, cwd: Path, env: dict) -> tuple[subprocess.Popen, int]:
    """The same gunicorn command line for every project, behind the query-counting wrapper."""
    port = free_port()
    env = {**env, "BENCH_WSGI_APPLICATION": application, "PYTHONPATH": str(PEERS)}
    command = [str(python.parent / "gunicorn"), *GUNICORN_ARGS, f"--bind={HOST}:{port}"]
    process = start(command, cwd=cwd, env=env)
    wait_for_gunicorn(process, port)
    return process, port


def varnishd_path() -> str | None:
    found = shutil.which("varnishd") or "/usr/sbin/varnishd"
    return found if os.access(found, os.X_OK) else None


def varnish(origin_port: int, workdir: Path) -> tuple[subprocess.Popen, int]:
    """Debian's varnishd with the shipped VCL in front of `origin_port`, as
    tests/e2e/test_edge_varnish.py starts it (foreground, no jail, malloc storage)."""
    import socket

    vcl = workdir / "default.vcl"
    vcl.write_text(VCL.read_text().replace('.port = "8000";', f'.port = "{origin_port}";'))
    port = free_port()
    command = [varnishd_path(), "-F", "-j", "none", "-n", str(workdir / "varnish")]
    command += ["-f", str(vcl), "-a", f"{HOST}:{port}", "-s", "malloc,64m", "-T", "none"]
    log = workdir / "varnishd.log"
    process = start(command, cwd=workdir, log=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"varnishd stopped: {log.read_text()[-2000:]}")
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"varnishd did not listen: {log.read_text()[-2000:]}")


def empty_render_cache() -> None:
    """A new content generation: every route and render stored so far is unreachable."""
    from cms.render_cache.store import bump_generation

    bump_generation()


@dataclass
class Response:
    status: int
    body: bytes
    queries: int | None
    hit: bool


def get(port: int, path: str, cookie: str = "", hit_header: str = "") -> Response:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        queries = response.getheader("X-Bench-Queries")
        hit = bool(hit_header) and response.getheader(hit_header, "").lower().startswith("hit")
        return Response(response.status, body, int(queries) if queries else None, hit)
    finally:
        conn.close()


# THE SITES UNDER TEST
# ------------------------------------------------------------------------------


def block(block_type: str, value) -> dict:
    return {"type": block_type, "value": value}


def build_site(rng: random.Random) -> dict:
    """Our two pages, the 90 extra segments (disabled for now), the visitors' cookies, and the
    spec the baselines build the same page from (bench/peers/peer_shared/build.py)."""
    from django.conf import settings
    from django.core import signing
    from wagtail.images import get_image_model

    from bench.segments import random_condition
    from cms.models import ContentPage, HomePage
    from personalization.middleware import VISITOR_SALT
    from personalization.models import Segment, Visitor

    image_model = get_image_model()
    images = list(image_model.objects.order_by("pk").values_list("pk", flat=True))
    home = HomePage.objects.get(locale__language_code="en")  # the demo has ja too

    def content(title: str, image: int) -> list[dict]:
        return [
            block("heading", {"text": title, "level": "h2"}),
            block("paragraph", f"<p>{title}: food, care and play picked for you. " * 3 + "</p>"),
            block("image", {"image": image, "alt_text": title, "caption": title}),
        ]

    def rest(link_page) -> list[dict]:
        return [
            block("paragraph", "<p>Free delivery over ¥3,000, returns within 30 days.</p>"),
            block(
                "call_to_action",
                {
                    "title": "Join Pawprint Club",
                    "text": "Offers picked for your pet, a care guide every month, free.",
                    "button_label": "Join free",
                    "link": {"page": link_page, "url": ""},
                },
            ),
            block(
                "quote",
                {
                    "quote": "The puppy guide arrived the week we brought Coco home.",
                    "attribution": "Mai, member in Yokohama",
                },
            ),
        ]

    demo = list(Segment.objects.order_by("priority", "pk")[:10])
    variants = [
        {"segment": str(s.pk), "content": content(s.name, images[i % len(images)])}
        for i, s in enumerate(demo)
    ]
    default = content("This month at Pawprint Club", images[0])
    intro = "A bench page."
    pages = {}
    for slug, body in (
        ("bench-plain", default + rest(home.pk)),
        (
            "bench-personalized",
            [block("personalized", {"variants": variants, "default": default})] + rest(home.pk),
        ),
    ):
        page = ContentPage(title=slug.replace("-", " ").title(), slug=slug, intro=intro)
        page.body = body
        home.add_child(instance=page)
        page.save_revision().publish()
        pages[slug] = page.url

    used = {images[0]} | {images[i % len(images)] for i in range(len(demo))}
    spec = {
        "images": {
            str(image.pk): {"title": image.title, "file": image.file.path}
            for image in image_model.objects.filter(pk__in=used)
        },
        "nav": [
            {"title": p.title, "slug": p.slug}
            for p in home.get_children().live().in_menu().order_by("path")
        ],
        "plain": {"title": "Bench Plain", "slug": "bench-plain", "intro": intro},
        "personalized": {
            "title": "Bench Personalized",
            "slug": "bench-personalized",
            "intro": intro,
        },
        "default": default,
        "rest": rest("home"),
        "variants": [
            {"segment": s.name, "content": v["content"]}
            for s, v in zip(demo, variants, strict=True)
        ],
    }

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
        cookies.append(f"{name}={signed}; {CSRF_COOKIE}")
    return {
        "pages": pages,
        "cookies": cookies,
        "members": member_cookies(rng),
        "demo": [s.pk for s in demo],
        "spec": spec,
    }


def member_cookies(rng: random.Random) -> list[str]:
    """Logged-in members (profile and visitor, as after their first page view): the session
    and CSRF cookies of each."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cms.members.models import MemberProfile
    from personalization.models import Visitor

    cookies = []
    for i in range(MEMBERS):
        user = get_user_model().objects.create_user(
            f"bench-member{i}@example.com", f"bench-member{i}@example.com", first_name=f"Mem{i}"
        )
        MemberProfile.objects.create(user=user, pet_type=rng.choice(["dog", "cat", "none"]))
        Visitor.objects.create(user=user)
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session}; {CSRF_COOKIE}")
    return cookies


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


def ensure_peers_venv() -> None:
    """wagtail-personalisation's throw-away venv, made on first use."""
    if not (PEERS_VENV / "bin/gunicorn").exists():
        subprocess.run(["bash", str(PEERS / "make_venv.sh"), str(PEERS_VENV)], check=True)  # noqa: S603, S607


def migrate_peers(peers: list[Peer]) -> list[subprocess.Popen]:
    """Each baseline's database, migrating in the background while ours is set up."""
    processes = []
    for peer in peers:
        database(f"{PG}/{peer.database}", "create")
        shutil.rmtree(PEERS_VAR / f"media-{peer.key}", ignore_errors=True)
        command = [str(peer.python), "manage.py", "migrate", "--noinput", "-v", "0"]
        processes.append(subprocess.Popen(command, cwd=peer.cwd, env=peer.env))  # noqa: S603
    return processes


def set_up_peers(peers: list[Peer], spec_path: Path) -> dict[str, dict]:
    """Each baseline's page from the spec, side by side: key → {"path", "cookies"}."""
    processes = {
        peer.key: subprocess.Popen(  # noqa: S603
            [str(peer.python), "manage.py", "bench_setup", str(spec_path), *peer.setup_args],
            cwd=peer.cwd,
            env=peer.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for peer in peers
    }
    pages = {}
    for key, process in processes.items():
        output, _ = process.communicate()
        if process.returncode:
            raise RuntimeError(f"the {key} baseline's bench_setup failed")
        pages[key] = json.loads(output.strip().splitlines()[-1])
    return pages


# THE LOAD
# ------------------------------------------------------------------------------


@dataclass
class Configuration:
    """One row of the table: a page on one server, and what to do before measuring it."""

    label: str
    server: str  # a key of the servers dict: "ours", "ours-cache", "varnish", "stock", "wp"
    path: str
    cookies: list[str]
    segments: int | None = None  # enabled segments, shown in the table
    prepare: Callable[[], object] = lambda: None  # run before each warm-up and measurement
    hit_header: str = ""  # a response header whose value starting with "hit" is a cache hit
    warm_up: bool = True  # False: measured right after `prepare` (a cold cache stays cold)
    totals: Path | None = None  # the origin's BENCH_TOTALS_DIR, behind a cache of its own


@dataclass
class Round:
    requests: int = 0
    errors: int = 0
    hits: int = 0
    latencies: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    segments: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    origin: tuple[int, int] | None = None  # the origin's requests and SQL queries (`totals`)


def origin_totals(directory: Path) -> tuple[int, int]:
    """The origin's requests and SQL queries so far, summed over its worker processes."""
    requests = queries = 0
    for path in directory.iterdir():
        for _ in range(20):  # a worker may be rewriting its file right now
            parts = path.read_text().split()
            if len(parts) == 2:
                requests, queries = requests + int(parts[0]), queries + int(parts[1])
                break
            time.sleep(0.005)
    return requests, queries


def measure(config: Configuration, port: int, seconds: float, clients: int):
    """One round of `config`: prepared, warmed up (unless it is a cold run), measured."""
    config.prepare()
    if config.warm_up:
        hammer(config, port, 2, clients)  # warm-up: reload, compile, renditions, caches
    before = origin_totals(config.totals) if config.totals else None
    result, took = hammer(config, port, seconds, clients)
    if before is not None:
        after = origin_totals(config.totals)
        result.origin = (after[0] - before[0], after[1] - before[1])
    return result, took


def hammer(config: Configuration, port: int, seconds: float, clients: int) -> tuple[Round, float]:
    result, deadline = Round(), time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        while time.monotonic() < deadline:
            began = time.perf_counter()
            cookie = rng.choice(config.cookies) if config.cookies else ""
            try:
                response = get(port, config.path, cookie, config.hit_header)
            except (OSError, http.client.HTTPException):
                response = Response(0, b"", None, False)
            took = (time.perf_counter() - began) * 1000
            body = response.body
            marker = body.find(b'data-segment="')
            with result.lock:
                if response.status == 200:
                    result.requests += 1
                    result.hits += response.hit
                    result.latencies.append(took)
                    if response.queries is not None:
                        result.queries.append(response.queries)
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


def check_same_page(
    configurations: list[Configuration], ports: dict[str, int], nav: list[str]
) -> None:
    """Every configuration serves the bench page: its text, an image and the navigation (a
    wrong page would be measured fast)."""
    for config in configurations:
        cookie = config.cookies[0] if config.cookies else ""
        response = get(ports[config.server], config.path, cookie)
        text = response.body.decode()
        for needle in ("Free delivery over", "Join Pawprint Club", "Coco home", "<img", *nav):
            if response.status != 200 or needle not in text:
                raise RuntimeError(f"{config.label}: {config.path} is not the bench page")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--no-peers", action="store_true", help="only our pages (no baselines)")
    parser.add_argument("--no-varnish", action="store_true", help="no row through Varnish")
    parser.add_argument("--write", type=Path, help="write the results into this Markdown file")
    args = parser.parse_args()

    import django
    import redis

    started, load_before = time.monotonic(), os.getloadavg()[0]

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:4.0f} s] {message}", file=sys.stderr, flush=True)

    peers = [] if args.no_peers else PEER_LIST
    if peers:
        ensure_peers_venv()
    PEERS_VAR.mkdir(parents=True, exist_ok=True)
    database(f"{PG}/{DATABASE}", "create")
    redis.Redis.from_url(REDIS_URL).flushdb()
    migrating = migrate_peers(peers)
    servers: dict[str, subprocess.Popen] = {}
    work = Path(tempfile.mkdtemp(prefix="bench-pages-"))  # varnishd's, the origin's totals
    totals = work / "origin"
    totals.mkdir()
    try:
        progress("migrating (the baselines in the background)")
        manage("migrate", "--noinput", "-v", "0")
        collect_static()
        progress("loading the demo site")
        manage("load_demo", "--no-progress")
        django.setup()
        site = build_site(random.Random(7))
        progress("building the baselines' pages")
        spec_path = PEERS_VAR / "spec.json"
        spec_path.write_text(json.dumps(site["spec"], indent=1))
        if any(process.wait() for process in migrating):
            raise RuntimeError("a baseline's migrations failed")
        peer_pages = set_up_peers(peers, spec_path)

        plain, personalized = site["pages"]["bench-plain"], site["pages"]["bench-personalized"]
        cookies, demo = site["cookies"], site["demo"]
        with_varnish = not args.no_varnish and varnishd_path() is not None
        configurations = []
        if peers:
            configurations += [
                Configuration(
                    "stock Wagtail 8 (no personalization app)",
                    "stock",
                    peer_pages["stock"]["path"],
                    [],
                ),
                Configuration(
                    "wagtail-personalisation 1.0, 100 segments",
                    "wp",
                    peer_pages["wp"]["path"],
                    peer_pages["wp"]["cookies"],
                    SEGMENTS,
                ),
            ]
        configurations += [
            Configuration(
                "ours, plain (no personalized block)",
                "ours",
                plain,
                cookies,
                None,
                lambda: enable_segments(10, demo),
            ),
            Configuration(
                "ours, personalized, 10 segments",
                "ours",
                personalized,
                cookies,
                10,
                lambda: enable_segments(10, demo),
            ),
            Configuration(
                "ours, personalized, 100 segments",
                "ours",
                personalized,
                cookies,
                SEGMENTS,
                lambda: enable_segments(SEGMENTS, demo),
            ),
            Configuration(
                "ours, personalized, 100 segments, render cache cold",
                "ours-cache",
                personalized,
                cookies,
                SEGMENTS,
                lambda: (enable_segments(SEGMENTS, demo), empty_render_cache()),
                "X-Render-Cache",
                warm_up=False,
            ),
            Configuration(
                "ours, personalized, 100 segments, render cache warm",
                "ours-cache",
                personalized,
                cookies,
                SEGMENTS,
                lambda: enable_segments(SEGMENTS, demo),
                "X-Render-Cache",
            ),
            Configuration(
                "ours, personalized, 100 segments, render cache warm, members",
                "ours-cache",
                personalized,
                site["members"],
                SEGMENTS,
                lambda: enable_segments(SEGMENTS, demo),
                "X-Render-Cache",
            ),
        ]
        if with_varnish:
            configurations.append(
                Configuration(
                    "ours, personalized, 100 segments, through Varnish",
                    "varnish",
                    personalized,
                    cookies,
                    SEGMENTS,
                    lambda: enable_segments(SEGMENTS, demo),
                    "X-Cache",
                    totals=totals,
                )
            )

        ports = {}
        ours = ROOT / ".venv/bin/python", "config.wsgi:application", ROOT
        servers["ours"], ports["ours"] = gunicorn(*ours, dict(os.environ))
        cached = {**os.environ, "RENDER_CACHE_ENABLED": "1"}
        servers["ours-cache"], ports["ours-cache"] = gunicorn(*ours, cached)
        if with_varnish:
            edge = {**cached, "RENDER_CACHE_EDGE": "1", "BENCH_TOTALS_DIR": str(totals)}
            servers["ours-edge"], ports["ours-edge"] = gunicorn(*ours, edge)
            servers["varnish"], ports["varnish"] = varnish(ports["ours-edge"], work)
        for peer in peers:
            application = peer.settings.replace(".settings", ".wsgi:application")
            servers[peer.key], ports[peer.key] = gunicorn(
                peer.python, application, peer.cwd, peer.env
            )
        check_same_page(configurations, ports, [f">{n['title']}</a>" for n in site["spec"]["nav"]])
        set_up = time.monotonic() - started
        progress("measuring")

        rows = {config.label: [] for config in configurations}
        for _ in range(args.rounds):
            for config in configurations:
                result, took = measure(config, ports[config.server], args.seconds, args.clients)
                rows[config.label].append((result.requests / took, result, took))
    finally:
        for process in servers.values():
            stop(process)
        from django.db import connections

        connections.close_all()
        for name in [DATABASE, *(peer.database for peer in peers)]:
            database(f"{PG}/{name}", "drop")
        for peer in peers:
            shutil.rmtree(PEERS_VAR / f"media-{peer.key}", ignore_errors=True)
        redis.Redis.from_url(REDIS_URL).flushdb()
        shutil.rmtree(work, ignore_errors=True)

    load = (load_before, os.getloadavg()[0])
    lines = report(configurations, rows, args, set_up, time.monotonic() - started, load)
    print("\n".join(lines))
    if args.write:
        from bench.report import write_section

        write_section(args.write, "pages", "Our pages against the baselines", lines)


def command_line(args) -> str:
    options = f"--seconds {args.seconds:g} --rounds {args.rounds} --clients {args.clients}"
    if args.no_peers:
        options += " --no-peers"
    if args.no_varnish:
        options += " --no-varnish"
    return f".venv/bin/python bench/pages.py {options} --write docs/benchmarks.md"


def report(configurations, rows, args, set_up: float, total: float, load) -> list[str]:
    from bench.report import machine_description

    def median_round(label):
        ordered = sorted(rows[label], key=lambda row: row[0])
        return ordered[len(ordered) // 2]

    def ratio(label: str, base: str | None) -> str:
        """The median over rounds of the rate against `base`'s rate in the same round: each
        round measures every configuration back to back, so a busy spell of the machine
        weighs on both sides of a ratio."""
        if base is None:
            return "–"
        pairs = zip(rows[label], rows[base], strict=True)
        return f"{statistics.median(a[0] / b[0] for a, b in pairs if b[0]):.2f}×"

    stock = next((c.label for c in configurations if c.server == "stock"), None)
    plain = next(c.label for c in configurations if "plain" in c.label)
    lines = [
        f"Command: `{command_line(args)}`",
        "",
        "One gunicorn per project, the same command line (`gunicorn querycount:application "
        "--workers=2`, sync workers, production settings), the same PostgreSQL and Redis, "
        f"{args.clients} client threads of the script on this machine; {args.rounds} interleaved "
        f"rounds of {args.seconds:g} s (after 2 s of warm-up) per configuration, median round "
        "shown (its requests/s, latencies and queries; *requests* is how many it measured); the "
        "ratios are the median over rounds of the ratio within each round, where every "
        "configuration ran back to back. Requests to ours carry the cookie of one of "
        f"{VISITORS} visitors (and a CSRF cookie), to wagtail-personalisation the session cookie "
        f"of one of {VISITORS}; the stock page is requested without a cookie. SQL queries per "
        "request: counted server-side for every project by the same WSGI wrapper "
        "(bench/peers/querycount.py), mean over the median round's requests; through Varnish, "
        "the origin's queries over the round divided by the page views served. The render "
        "cache rows run on a second gunicorn of ours (same command line, "
        "RENDER_CACHE_ENABLED=1, entries shared through Redis); *cold* is measured right after "
        "the cache was emptied, without warm-up; *members* are 50 logged-in members. Varnish "
        "(Debian's varnishd, deploy/varnish/default.vcl) runs in front of a third, in edge mode "
        "(RENDER_CACHE_EDGE=1). The baselines are described in bench/peers/README.md.",
        "",
        "| page | segments | requests/s | vs stock Wagtail | vs our plain | each round | requests "
        "| p50 | p99 | SQL queries per request | cache hit rate | variants served | errors |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    behind = []
    for config in configurations:
        rate, result, _ = median_round(config.label)
        errors = sum(r.errors for _, r, _ in rows[config.label])
        queries = f"{statistics.mean(result.queries):.1f}" if result.queries else "–"
        if result.origin is not None and result.requests:
            origin_requests, origin_queries = result.origin
            queries = f"{origin_queries / result.requests:.1f} (origin)"
            behind.append(
                f"{config.label}: {result.requests} page views in the median round took "
                f"{origin_requests:,} requests of the origin "
                f"({origin_requests / result.requests:.1f} per page view: the key lookup "
                "`/api/v1/decide/`, the ESI includes of the holes, the misses) and "
                f"{origin_queries:,} SQL queries."
            )
        hit_rate = f"{result.hits / result.requests:.0%}" if config.hit_header else "–"
        lines.append(
            f"| {config.label} | {config.segments or '–'} | **{rate:,.1f}** "
            f"| {ratio(config.label, stock)} | {ratio(config.label, plain)} "
            f"| {' / '.join(f'{r:,.1f}' for r, _, _ in rows[config.label])} "
            f"| {result.requests} | {percentile(result.latencies, 0.5):.1f} ms "
            f"| {percentile(result.latencies, 0.99):.1f} ms | {queries} | {hit_rate} "
            f"| {len(result.segments) or '–'} | {errors} |"
        )
    if not args.no_varnish and not any(c.server == "varnish" for c in configurations):
        lines.append(
            f"| ours, personalized, {SEGMENTS} segments, through Varnish | {SEGMENTS} "
            "| *not measured: varnishd is not installed (apt-get install varnish)* |" + " |" * 10
        )
    lines += [
        "",
        "*Variants served*: how many different variants (segment ids or `default`) our "
        "personalized page served in the median round — the visitors really get different "
        "content (neither baseline's segments match the bench's visitors). *Cache hit rate*: "
        "the share of the median round's responses the cache answered — the render cache's "
        "`X-Render-Cache: hit`, Varnish's `X-Cache: HIT`.",
        *(["", " ".join(behind)] if behind else []),
        "",
        "Targets (issue 17): without a render cache, personalized at 100 segments ≥ 1.0× our "
        "plain page, with queries per request independent of the number of segments; with the "
        "render cache ≥ 3× the stock Wagtail page (aim: 5×), a hit ≤ 1 SQL query for an "
        "anonymous visitor and ≤ 2 for a member; through Varnish ≥ 20× the stock Wagtail page. "
        "The hit-rate target (≥ 95 % after warm-up) is of the load test's mix (below).",
        "",
        f"Conditions: a shared machine ({os.cpu_count()} cores; other work may run beside the "
        "bench, so compare the ratios of one run rather than absolute figures across runs); "
        f"servers, PostgreSQL, Redis and the client share the cores. Load average (1 min) "
        f"before the run {load[0]:.1f}, after it {load[1]:.1f}. Set-up took {set_up:.0f} s, "
        f"the whole run {total:.0f} s.",
        "",
        machine_description(),
    ]
    return lines


if __name__ == "__main__":
    main()
