"""Serving a recommendations block: time and SQL queries per block, for catalogues of 40, 1,000
and 10,000 products.

    .venv/bin/python bench/recommendations.py [--rounds 500] [--products 40,1000,10000]
        [--write docs/benchmarks.md]

Builds a throwaway test database (a `test_` database on the server DATABASE_URL names, else
in-memory SQLite) with the catalogue, 2,000 shoppers whose rollups hold 5–15 viewed and 0–5
bought products, and the co-occurrence table built by the periodic job's function. Then, for a
returning visitor whose row is loaded (as the middleware's lazy visitor does once per request),
each round serves one block on a fresh request: *recommend* is `recommendations_for` (the
candidates from the process's catalogue snapshot, the one query for the visitor's pairs, the
ranking), *block* is the render-cache hole filled — recommend plus the product cards' HTML.
The snapshot's rebuild time and memory are measured per catalogue as well. Impressions are not
queued here (one `events_track` call per block, measured by `bench/ingest.py`). Single
process, one core.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, reset_queries  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.report import machine_description, write_section  # noqa: E402
from config import version_tokens  # noqa: E402

CATEGORIES = ["food", "treats", "toys", "care", "beds", "walking", "litter", "bowls"]
PETS = ["dog", "cat", "other", "any"]
SHOPPERS = 2000
WARM_UP = 20


def build(products: int, rng: random.Random) -> list[str]:
    from personalization.commerce.cooccurrence import product_pairs_rebuild
    from personalization.commerce.models import Product, ProductPair
    from personalization.models import Visitor

    ProductPair.objects.all().delete()
    Product.objects.all().delete()
    Visitor.objects.all().delete()
    Product.objects.bulk_create(
        [
            Product(
                sku=f"SKU-{n:05d}", name=f"Product {n}", category=CATEGORIES[n % len(CATEGORIES)],
                pet_type=PETS[n % len(PETS)], price=500 + n % 5000, stock=(n * 7) % 40,
            )
            for n in range(products)
        ],
        batch_size=2000,
    )  # fmt: skip
    skus = [f"SKU-{n:05d}" for n in range(products)]
    today = timezone.localdate()
    popular = skus[: max(40, products // 10)]  # browsing concentrates on a tenth of the shop

    def history(count: int) -> dict:
        picked = rng.sample(popular, min(count, len(popular)))
        days = [today - datetime.timedelta(days=rng.randrange(30)) for _ in picked]
        return {sku: day.isoformat() for sku, day in zip(picked, days, strict=True)}

    Visitor.objects.bulk_create(
        [
            Visitor(
                products_viewed=history(rng.randint(5, 15)),
                products_bought=history(rng.randint(0, 5)),
            )
            for _ in range(SHOPPERS)
        ],
        batch_size=1000,
    )  # fmt: skip
    started = time.perf_counter()
    pairs = product_pairs_rebuild()
    if connection.vendor == "postgresql":  # statistics, as autovacuum keeps them in service
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"{products} products: {pairs:,} pairs in {time.perf_counter() - started:.2f} s")
    from personalization.commerce.version import catalogue_bump

    catalogue_bump()  # as a committed catalogue change does (bulk_create announces none)
    return popular


def measure_snapshot(repeat: int = 5) -> dict:
    """The snapshot's rebuild (what the first request after a catalogue change pays) and the
    memory it holds (traced allocations of one build)."""
    from personalization.commerce.snapshot import snapshot_build

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        snapshot_build("bench")
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    snapshot = snapshot_build("bench")
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {"rebuild": statistics.median(times) * 1000, "bytes": held, "rows": len(snapshot.rows)}


def cards_kept() -> dict:
    """The cards' HTML kept with the snapshot after the rounds (entries, bytes of their text)."""
    from personalization.commerce.snapshot import catalogue_snapshot

    derived = catalogue_snapshot().derived
    size = sum(sys.getsizeof(part) for parts in derived.values() for part in parts)
    return {"cards": len(derived), "cards_bytes": size}


def measure(rounds: int, popular: list[str], rng: random.Random, limit: int) -> dict:
    from cms.recommendation_blocks import _fill_recommendations
    from personalization.commerce.recommend import recommendations_for
    from personalization.models import Visitor

    today = timezone.localdate().isoformat()
    visitor = Visitor.objects.create(
        traits={"pet": "dog"},
        products_viewed=dict.fromkeys(rng.sample(popular, 10), today),
        products_bought=dict.fromkeys(rng.sample(popular, 3), today),
        categories_bought={"food": today, "toys": today},
    )
    visitor = Visitor.objects.select_related("user").get(pk=visitor.pk)
    settings = {"heading": "Picked for you", "key": "bench", "limit": limit, "exploration": 10,
                "category": "", "pet_type": ""}  # fmt: skip

    def fresh_request():
        request = RequestFactory().get("/")
        request.visitor, request.visitor_uuid = visitor, visitor.uuid
        request.user = type("Anonymous", (), {"is_authenticated": False, "pk": None})()
        return request

    recommend, block, queries = [], [], []
    for index in range(WARM_UP + rounds):
        # Each block on a request of its own whose version tokens are read (as a served page's
        # render-cache lookup reads them, all in its first round trip).
        with version_tokens.request_scope():
            version_tokens.read_with()
            request = fresh_request()
            started = time.perf_counter()
            recommendations_for(request, limit=limit, exploration=0.1, block_id="bench")
            elapsed = time.perf_counter() - started
        with version_tokens.request_scope():
            version_tokens.read_with()
            request = fresh_request()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                _fill_recommendations(settings, request)
                filled = time.perf_counter() - started
        if index >= WARM_UP:
            recommend.append(elapsed)
            block.append(filled)
            queries.append(len(captured))
    reset_queries()
    return {
        "recommend": statistics.median(recommend) * 1000,
        "recommend_p95": statistics.quantiles(recommend, n=20)[-1] * 1000,
        "block": statistics.median(block) * 1000,
        "block_p95": statistics.quantiles(block, n=20)[-1] * 1000,
        "queries": max(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--products", default="40,1000,10000")
    parser.add_argument("--write", help="Markdown file to update with the results")
    args = parser.parse_args()
    command = "`.venv/bin/python bench/recommendations.py --rounds {} --products {}{}`".format(
        args.rounds, args.products, f" --write {args.write}" if args.write else ""
    )
    print(f"Command: {command}")
    from personalization.commerce.recommend import recommendations_shown
    from personalization.events.recommendations import recommendation_impressions_track

    recommendations_shown.disconnect(recommendation_impressions_track)
    setup_test_environment()
    load_before = os.getloadavg()[0]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    rows, snapshots = [], []
    try:
        with override_settings(DEBUG=False):
            for products in [int(n) for n in args.products.split(",")]:
                rng = random.Random(products)
                popular = build(products, rng)
                snapshots.append((products, measure_snapshot()))
                print(products, snapshots[-1][1])
                for limit in (4, 8):
                    result = measure(args.rounds, popular, rng, limit)
                    rows.append((products, limit, result))
                    print(products, limit, result)
                snapshots[-1][1].update(cards_kept())
        vendor = connection.vendor
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    lines = [
        "| products | slots | recommend (median / p95) | block served (median / p95) "
        "| SQL queries per block |",
        "|---:|---:|---:|---:|---:|",
        *[
            f"| {products:,} | {limit} | {r['recommend']:.2f} / {r['recommend_p95']:.2f} ms "
            f"| {r['block']:.2f} / {r['block_p95']:.2f} ms | {r['queries']} |"
            for products, limit, r in rows
        ],
    ]  # fmt: skip
    snapshot_lines = [
        "| products in stock | snapshot rebuild (median of 5) | memory held | per product "
        "| cards kept after the rounds |",
        "|---:|---:|---:|---:|---:|",
        *[
            f"| {r['rows']:,} of {products:,} | {r['rebuild']:.1f} ms "
            f"| {r['bytes'] / 2**20:.2f} MiB | {r['bytes'] / max(r['rows'], 1) / 1024:.2f} KiB "
            f"| {r['cards']:,} entries, {r['cards_bytes'] / 1024:.0f} KiB |"
            for products, r in snapshots
        ],
    ]  # fmt: skip
    print("\n".join(lines + [""] + snapshot_lines))
    if args.write:
        write_section(Path(args.write), "recommendations", "Recommendations: serving a block", [
            f"Command: {command}",
            "",
            f"One recommendations block served for a returning visitor (10 products viewed, 3 "
            f"bought, 2 categories bought, a dog), {args.rounds:,} rounds after {WARM_UP} warm-up, "
            f"each on a fresh request with the visitor's row already loaded (the middleware's one "
            f"query) and the request's version tokens read (the render cache's lookup reads them, "
            f"the catalogue's among them, in its one round trip); {SHOPPERS:,} shoppers' rollups "
            f"feed the co-occurrence table (built by the periodic job's function), {vendor} "
            "database and Redis on this machine. *recommend*: `recommendations_for` — the "
            "candidates picked from this process's catalogue snapshot, the one SQL query (the "
            "pairs of the visitor's products and their viewed categories) and the ranking; "
            "*block served*: the render-cache hole filled, i.e. recommend plus the cards' HTML "
            "(kept per catalogue version, product and language) joined with the visitor's arms "
            "and favourite buttons (no product images here). Impressions are queued by one "
            "`events_track` call per block, not included. Target: at most 1 query and under 2 ms "
            "per block.",
            "",
            *lines,
            "",
            "The catalogue snapshot (`personalization/commerce/snapshot.py`): each process keeps "
            "the active products in stock (their columns and images' as tuples, grouped per "
            "category and pet) under the catalogue's version token, and rebuilds it with one "
            "query when the token changes — on the first request after a committed catalogue "
            "change, which pays the rebuild below on top of the block (and then each card's "
            "first rendering). Every other block reads no catalogue rows: its seeded order reads "
            "a few buckets of a large pool, so the time per block barely grows with the "
            "catalogue; what grows is the pair query's rows (a popular product has more "
            "partners) and the snapshot's rebuild and memory:",
            "",
            *snapshot_lines,
            "",
            "Memory is the snapshot itself (Python's traced allocations of one build; the bench's "
            "products have no images: each distinct image's row is held once more, not measured "
            "here); the cards' "
            "HTML kept with it (a card per product shown and language, a favourite button per "
            "product, language and state) is bounded at 20,000 entries, then started afresh. "
            "Larger catalogues: `--products 100000` (a separate run, quoted in the summary at "
            "the top of this page).",
            "",
            "What the render cache shares and what it fills: the page around the block (and the "
            "block's settings: heading, report name, number of products, exploration share, "
            "filters) is in the shared entry of its personalization key; the block's products, "
            "their order and arms are one visitor's, so the whole block is a hole (kind "
            "`recommendations`, site and API alike) filled per request with the time above — "
            "never stored in a shared entry. Inside a product card, the favourite button is the "
            "visitor's too (its own hole on product lists).",
            "",
            f"Conditions: a shared machine (other work ran beside the bench); load average "
            f"(1 min) before the run {load_before:.1f}, after it {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} cores, so compare rows of one run rather than runs.",
            "",
            machine_description(),
        ])  # fmt: skip


if __name__ == "__main__":
    main()
