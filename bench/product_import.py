"""The admin's CSV import of products: a 100,000-row file checked (the dry run) and applied, on
PostgreSQL. Target: under 60 s for both.

    .venv/bin/python bench/product_import.py [--rows 100000] [--write docs/benchmarks.md]

Runs the two jobs the admin queues (`import_check`, `import_apply`) in this process, as the RQ
worker would, on a throw-away database (bench_product_import) with an empty catalogue; then
the same file again (every row unchanged) and a file changing every price (every row updated,
a history row each). Single process; PostgreSQL on the same machine.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.servers import PG, database  # noqa: E402

DATABASE = "bench_product_import"
MEDIA = tempfile.mkdtemp(prefix="bench-product-import-")
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": f"{PG}/{DATABASE}",
        "DJANGO_MEDIA_ROOT": MEDIA,
        # The jobs the catalogue change queues (journeys, favourites) run after the commit in
        # the embedded writer thread, as without Redis; the bench waits for them separately.
        "JOBS_INLINE_MODE": "thread",
    }
)
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

CATEGORIES = ["dog-food", "cat-food", "litter", "toys", "treats", "beds", "leads", "grooming"]
PETS = ["dog", "cat", "other", "any"]


def csv_bytes(rows: int, price_shift: int = 0) -> bytes:
    """A file as a shop exports it: every column, a BOM, Japanese names."""
    rng = random.Random(19)
    lines = ["\ufeffsku,name,category,pet_type,price,stock,url,active"]
    for n in range(rows):
        sku = f"SKU-{n:06d}"
        name = f"プレミアム フード {n} (ペット用)"
        price = rng.randint(100, 30000) + price_shift
        lines.append(
            f'{sku},"{name}",{rng.choice(CATEGORIES)},{rng.choice(PETS)},{price},'
            f"{rng.randint(0, 500)},https://shop.example.jp/items/{sku},"
            f"{'true' if n % 10 else 'false'}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def run(name: str, content: bytes) -> dict:
    from django.core.files.base import ContentFile

    from config import embedded
    from personalization.commerce.csv_import import import_apply, import_check
    from personalization.commerce.models import ImportStatus, ProductImport

    product_import = ProductImport.objects.create(
        file=ContentFile(content, name=name), original_name=name, report={"language": "en"}
    )
    started = time.perf_counter()
    import_check(product_import.pk)
    checked = time.perf_counter()
    product_import.refresh_from_db()
    assert product_import.status == ImportStatus.CHECKED, product_import.report
    ProductImport.objects.filter(pk=product_import.pk).update(status=ImportStatus.APPLYING)
    import_apply(product_import.pk)
    applied = time.perf_counter()
    embedded.flush(timeout=600)
    drained = time.perf_counter()
    product_import.refresh_from_db()
    assert product_import.status == ImportStatus.APPLIED, product_import.report
    report = product_import.report
    return {
        "check": checked - started,
        "apply": applied - checked,
        "jobs": drained - applied,
        "counts": (report["created"], report["updated"], report["unchanged"]),
        "size": len(content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()

    database(f"{PG}/{DATABASE}", "create")
    try:
        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from bench.report import machine_description, write_section
        from personalization.commerce.models import Product, ProductChange

        call_command("migrate", verbosity=0)
        results = [
            ("new catalogue (every row created)", run("new.csv", csv_bytes(args.rows))),
            ("the same file again (every row unchanged)", run("same.csv", csv_bytes(args.rows))),
            ("every price changed (every row updated)", run("prices.csv", csv_bytes(args.rows, 1))),
        ]
        assert Product.objects.count() == args.rows
        assert ProductChange.objects.count() == 2 * args.rows
        connections.close_all()
    finally:
        database(f"{PG}/{DATABASE}", "drop")

    rows = [
        f"| {label} | {r['size'] / 1024 / 1024:.1f} MB | {r['counts'][0]:,} / {r['counts'][1]:,} "
        f"/ {r['counts'][2]:,} | {r['check']:.1f} s | {r['apply']:.1f} s | "
        f"**{r['check'] + r['apply']:.1f} s** | {r['jobs']:.1f} s |"
        for label, r in results
    ]
    lines = [
        "Command: `.venv/bin/python bench/product_import.py --rows "
        f"{args.rows} --write docs/benchmarks.md`",
        "",
        f"An editor's CSV import of {args.rows:,} products (Personalization → Products → Import "
        "CSV): the dry run (`import_check`: parse, validate each row as the feed API validates "
        "an item, count new / updated / unchanged against the catalogue) and the apply "
        "(`import_apply`: the dry run's validated rows, kept beside the file, through "
        "`products_upsert` in one transaction, in chunks "
        "of 1,000, with a history row per created product or changed price), each run as the "
        "RQ worker runs it, on PostgreSQL on the same machine. Target: under 60 s for both. "
        "The last column is the work other features queue once the import commits (journeys' "
        "catalogue triggers, favourites' rollups: a job per chunk), run here in the embedded "
        "writer thread; with Redis, RQ workers take it and the import does not wait for it.",
        "",
        "| file | size | new / updated / unchanged | dry run | apply | total | jobs after |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        machine_description(),
    ]
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "product-import", "Product CSV import", lines)


if __name__ == "__main__":
    main()
