"""The benchmarks' own set-up and measuring code still runs against today's models and demo (a
bench that no longer runs measures nothing: `bench/pages.py` stopped at its set-up for a day
once the demo had a Japanese home page too). Each is run in-process, on the test database, at
the smallest size; no figure is checked here — speed goals live in the benchmarks."""

from __future__ import annotations

import importlib
import os
import random
from contextlib import contextmanager

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@contextmanager
def bench_environment():
    """`load("pages")` inside: a bench module, (re)loaded. Loading one sets up its own
    environment (database, Redis, settings module) in `os.environ`; that is put back on leaving,
    so the processes later tests start (workers, `manage.py`) inherit the test run's
    environment, not a bench's."""
    saved = dict(os.environ)
    try:
        yield lambda name: importlib.reload(importlib.import_module(f"bench.{name}"))
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def bench():
    with bench_environment() as load:
        yield load


def test_the_pages_bench_builds_its_pages_on_the_demo(bench):
    site = bench("pages").build_site(random.Random(7))
    assert set(site["pages"]) == {"bench-plain", "bench-personalized"}
    for path in site["pages"].values():
        assert Client().get(path).status_code == 200
    assert len(site["spec"]["variants"]) == 10


def test_the_recommendations_bench_measures_one_query_per_block(bench):
    recommendations = bench("recommendations")
    rng = random.Random(19)
    popular = recommendations.build(40, rng)
    result = recommendations.measure(2, popular, rng, 4)
    assert result["queries"] == 1
    assert result["block"] > 0


def test_the_product_import_bench_checks_and_applies_a_file(bench, settings, tmp_path):
    product_import = bench("product_import")
    settings.MEDIA_ROOT = tmp_path
    result = product_import.run("bench-smoke.csv", product_import.csv_bytes(30))
    assert result["counts"] == (30, 0, 0)
    again = product_import.run("bench-smoke-again.csv", product_import.csv_bytes(30, 1))
    assert again["counts"] == (0, 30, 0)


def test_a_bench_leaves_the_test_runs_environment_as_it_was():
    before = dict(os.environ)
    with bench_environment() as load:
        for name in ("pages", "recommendations", "product_import"):
            load(name)
        assert os.environ["DATABASE_URL"].endswith("/bench_product_import")  # its own, inside
    assert dict(os.environ) == before
