"""The benchmarks' own set-up and measuring code still runs against today's models and demo (a
bench that no longer runs measures nothing: `bench/pages.py` stopped at its set-up for a day
once the demo had a Japanese home page too). Each is run in-process, on the test database, at
the smallest size; no figure is checked here — speed goals live in the benchmarks."""

from __future__ import annotations

import random

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_pages_bench_builds_its_pages_on_the_demo():
    from bench.pages import build_site

    site = build_site(random.Random(7))
    assert set(site["pages"]) == {"bench-plain", "bench-personalized"}
    for path in site["pages"].values():
        assert Client().get(path).status_code == 200
    assert len(site["spec"]["variants"]) == 10


def test_the_recommendations_bench_measures_one_query_per_block():
    from bench.recommendations import build, measure

    rng = random.Random(19)
    popular = build(40, rng)
    result = measure(2, popular, rng, 4)
    assert result["queries"] == 1
    assert result["block"] > 0


def test_the_product_import_bench_checks_and_applies_a_file(settings, tmp_path):
    from bench.product_import import csv_bytes, run

    settings.MEDIA_ROOT = tmp_path
    result = run("bench-smoke.csv", csv_bytes(30))
    assert result["counts"] == (30, 0, 0)
    assert run("bench-smoke-again.csv", csv_bytes(30, price_shift=1))["counts"] == (0, 30, 0)
