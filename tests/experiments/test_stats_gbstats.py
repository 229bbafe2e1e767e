"""experiments.statistics.compare agrees with GrowthBook's engine (gbstats 0.8.0) on every case.

The cases (inputs and gbstats' results) are in tests/conformance/data/gbstats-cases.json.gz,
written by tests/conformance/make_stats_cases.py in a throw-away venv (gbstats cannot be installed
next to the project's numpy 2). Where gbstats returns its uninformative default (an error message
in the file), `compare` returns an Estimate of Nones.
"""

from __future__ import annotations

import gzip
import json
import math
from functools import cache
from pathlib import Path

import pytest

from experiments.statistics import Estimate, Sample, compare

DATA = Path(__file__).resolve().parents[1] / "conformance" / "data" / "gbstats-cases.json.gz"
TOLERANCE = 1e-6
FIELDS = ("point", "ci_low", "ci_high", "p_value")
COMBINATIONS = [
    (binary, cuped, relative, sequential)
    for binary in (1, 0)
    for cuped in (0, 1)
    for relative in (1, 0)
    for sequential in (0, 1)
]


@cache
def _cases() -> list:
    with gzip.open(DATA, "rt") as file:
        return json.load(file)["cases"]


def _sample(arm: list) -> Sample:
    """An arm written as [n, sum, sum_squares, pre_sum, pre_sum_squares, products]."""
    names = ("n", "sum", "sum_squares", "pre_sum", "pre_sum_squares", "post_pre_sum_products")
    return Sample(**dict(zip(names, arm, strict=False)))


def _ours(case: list) -> Estimate:
    binary, cuped, relative, sequential, alpha, tuning, control, variant, _ = case
    return compare(
        _sample(control),
        _sample(variant),
        relative=bool(relative),
        sequential=bool(sequential),
        alpha=alpha,
        sequential_tuning=tuning,
        cuped=bool(cuped),
        binary=bool(binary),
    )


def _label(case: list) -> str:
    binary, cuped, relative, sequential = case[:4]
    return (
        f"{'conversion' if binary else 'value'}-{'cuped' if cuped else 'plain'}-"
        f"{'relative' if relative else 'absolute'}-{'sequential' if sequential else 'fixed'}"
    )


def test_the_reference_file_covers_ten_thousand_informative_cases_of_every_kind():
    informative = [case for case in _cases() if not isinstance(case[-1], str)]
    assert len(informative) >= 10_000
    kinds = {tuple(case[:4]) for case in informative}
    assert kinds == set(COMBINATIONS)
    sizes = [min(case[6][0], case[7][0]) for case in informative]
    assert min(sizes) <= 5 and max(sizes) >= 1_000_000


@pytest.mark.parametrize("combination", COMBINATIONS, ids=[_label(list(c)) for c in COMBINATIONS])
def test_compare_matches_gbstats_to_1e_6(combination):
    worst, worst_case = 0.0, None
    checked = 0
    for case in _cases():
        if tuple(case[:4]) != combination or isinstance(case[-1], str):
            continue
        ours = _ours(case)
        for field, expected in zip(FIELDS, case[-1], strict=True):
            value = getattr(ours, field)
            assert value is not None, f"{field} is None where gbstats gives {expected}: {case}"
            difference = abs(value - expected)
            if difference > worst:
                worst, worst_case = difference, (field, case, ours)
        checked += 1
    assert checked >= 500
    assert worst <= TOLERANCE, f"largest difference {worst:.3g} at {worst_case}"


def test_compare_is_undefined_exactly_where_gbstats_gives_its_default():
    defaults = [case for case in _cases() if isinstance(case[-1], str)]
    assert {case[-1] for case in defaults} == {
        "ZERO_NEGATIVE_BASELINE_VARIATION",
        "ZERO_NEGATIVE_VARIANCE",
    }
    for case in defaults:
        assert _ours(case) == Estimate(None, None, None, None), case


def test_no_result_is_nan_or_infinite():
    for case in _cases():
        ours = _ours(case)
        assert all(v is None or math.isfinite(v) for v in (getattr(ours, f) for f in FIELDS))
