"""Time to compute an experiment's results table from 1 M and 10 M exposure rows in PostgreSQL.

    .venv/bin/python bench/experiment_results.py [--sizes 1000000 10000000]
                                                  [--write docs/benchmarks.md]

Creates (and drops) its own database `bench_experiments` on the PostgreSQL at BENCH_DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/bench_experiments). Rows are generated in SQL
(`generate_series`), 50/50 variants, ~5 % converting, half the exposures tagged with a segment.
Measured: (1) the report's results table, read from the daily/segment aggregates the `reports`
job keeps; (2) the job itself, recomputing those aggregates from every exposure and conversion
(GROUP BY queries); (3) the same results straight from the raw tables in one GROUP BY.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import servers  # noqa: E402

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_experiments")
os.environ["DATABASE_URL"] = URL
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")


def recreate_database() -> None:
    servers.database(URL, "create")
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env={**os.environ}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--write", help="Markdown file to update with the results")
    args = parser.parse_args()
    recreate_database()
    import django

    django.setup()
    from bench.report import machine_description, write_section

    rows = [measure(size) for size in args.sizes]
    lines = [
        "| exposure rows | conversions | results table (report, from aggregates) "
        "| recount job (all aggregates) | results straight from raw rows |",
        "|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['size']:,} | {r['conversions']:,} | {r['report_ms']:.1f} ms "
        f"| {r['snapshot_s']:.2f} s | {r['raw_s']:.2f} s |"
        for r in rows
    ]
    print("\n".join(lines))
    if args.write:
        write_section(
            Path(args.write),
            "experiments",
            "Experiment results",
            [
                "Command: `.venv/bin/python bench/experiment_results.py "
                "--write docs/benchmarks.md`",
                "",
                "The admin report and `GET /api/v1/experiments/{key}/results/` read the aggregates "
                "(first timing column: the whole results table with statistics). The `reports` "
                "job that recounts the aggregates scans every exposure and conversion (second "
                'column; it runs in the background on a schedule and on "Recount results"). The '
                "last column is the same table computed directly from the raw tables, for "
                "comparison. Target: under 1 s for 10 M.",
                "",
                *lines,
                "",
                machine_description(),
            ],
        )


def fill(experiment, size: int) -> int:
    from django.db import connection

    from experiments.models import Conversion, Exposure, ExposureSegment

    variants = experiment.variants.order_by("sort_order").values_list("pk", flat=True)
    control, other = list(variants)
    goal = experiment.goals.get().pk
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # rows only: no visitor rows
        for table in (ExposureSegment, Conversion, Exposure):
            cursor.execute(f"TRUNCATE {table._meta.db_table} CASCADE")
        cursor.execute(
            f"INSERT INTO {Exposure._meta.db_table} "
            "(experiment_id, variant_id, visitor_id, exposed_at, segment_ids) "
            "SELECT %s, CASE WHEN i %% 2 = 0 THEN %s ELSE %s END, i, "
            "now() - (i %% 30) * interval '1 day', '[]'::jsonb FROM generate_series(1, %s) i",
            [experiment.pk, control, other, size],
        )
        cursor.execute(
            f"INSERT INTO {ExposureSegment._meta.db_table} "
            "(exposure_id, experiment_id, variant_id, visitor_id, segment_id) "
            f"SELECT id, experiment_id, variant_id, visitor_id, 1 + (visitor_id %% 7) "
            f"FROM {Exposure._meta.db_table} WHERE visitor_id %% 2 = 1",
            [],
        )
        cursor.execute(
            f"INSERT INTO {Conversion._meta.db_table} "
            "(experiment_id, goal_id, variant_id, visitor_id, converted_at, value) "
            f"SELECT experiment_id, %s, variant_id, visitor_id, exposed_at + interval '1 hour', "
            f"(visitor_id %% 50) * 100 FROM {Exposure._meta.db_table} "
            "WHERE (visitor_id * 7919) %% 100 < CASE WHEN variant_id = %s THEN 5 ELSE 6 END",
            [goal, control],
        )
        cursor.execute("SET session_replication_role = DEFAULT")
        for table in (Exposure, ExposureSegment, Conversion):
            cursor.execute(f"ANALYZE {table._meta.db_table}")
    return Conversion.objects.count()


def raw_results(experiment) -> None:
    from django.db import connection

    from experiments.models import Conversion, Exposure

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.variant_id, COUNT(*) FROM {Exposure._meta.db_table} e "
            "WHERE e.experiment_id = %s GROUP BY e.variant_id",
            [experiment.pk],
        )
        cursor.fetchall()
        cursor.execute(
            f"SELECT c.variant_id, COUNT(*), SUM(c.value) FROM {Conversion._meta.db_table} c "
            "WHERE c.experiment_id = %s GROUP BY c.variant_id",
            [experiment.pk],
        )
        cursor.fetchall()


def measure(size: int) -> dict:
    from experiments.models import Experiment, Goal, GoalKind, Variant
    from experiments.selectors import experiment_results
    from experiments.services import aggregates_snapshot

    Experiment.objects.filter(key="bench").delete()
    experiment = Experiment.objects.create(key="bench", name="Bench")
    Variant.objects.create(experiment=experiment, name="control", weight=0.5, sort_order=0)
    Variant.objects.create(experiment=experiment, name="b", weight=0.5, sort_order=1)
    Goal.objects.create(
        experiment=experiment,
        name="Purchase",
        is_primary=True,
        kind=GoalKind.EVENT,
        event_type="purchase",
    )
    started = time.perf_counter()
    conversions = fill(experiment, size)
    print(f"{size:,} exposures generated in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    aggregates_snapshot(experiment=experiment)
    snapshot = time.perf_counter() - started
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        experiment_results(experiment=experiment)
        timings.append(time.perf_counter() - started)
    raw = []
    for _ in range(3):
        started = time.perf_counter()
        raw_results(experiment)
        raw.append(time.perf_counter() - started)
    return {
        "size": size,
        "conversions": conversions,
        "snapshot_s": snapshot,
        "report_ms": statistics.median(timings) * 1000,
        "raw_s": statistics.median(raw),
    }


if __name__ == "__main__":
    main()
