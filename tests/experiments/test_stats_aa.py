"""A/A experiments read every day: the sequential test keeps false positives under 5 %.

A smaller, seeded version of bench/aa_simulation.py (figures in docs/benchmarks.md): 400 A/A
experiments of 30 days, Poisson(250) visitors per arm per day, 4 % buying, log-normal orders.
The fixed-horizon p-value read daily must show the peeking problem (far above 5 %), so the
simulation can tell a broken test from a working one; the sequential one must stay <= 5 %, read
from the first day for the absolute uplift, and from MIN_EVENTS_PER_ARM buyers per arm for the
relative uplift (whose delta method is poor with a handful of buyers).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from experiments.statistics import MIN_EVENTS_PER_ARM, Sample, compare

EXPERIMENTS, DAYS, SEED = 400, 30, 20260416
BOUND = 0.05


@cache
def _cumulative_sums() -> tuple[np.ndarray, ...]:
    """(visitors, buyers, revenue, revenue squared), cumulative by day: (experiments, days, 2)."""
    rng = np.random.default_rng(SEED)
    shape = (EXPERIMENTS, DAYS, 2)
    visitors = rng.poisson(250, shape)
    buyers = rng.binomial(visitors, 0.04)
    amounts = rng.lognormal(np.log(4000), 0.6, int(buyers.sum()))
    cell = np.repeat(np.arange(buyers.size), buyers.ravel())
    revenue = np.bincount(cell, weights=amounts, minlength=buyers.size).reshape(shape)
    squares = np.bincount(cell, weights=amounts**2, minlength=buyers.size).reshape(shape)
    return tuple(x.cumsum(axis=1) for x in (visitors, buyers, revenue, squares))


def _p_values(*, binary: bool, relative: bool, sequential: bool) -> np.ndarray:
    visitors, buyers, revenue, squares = _cumulative_sums()
    p = np.ones((EXPERIMENTS, DAYS))
    for e in range(EXPERIMENTS):
        for d in range(DAYS):
            arms = [
                Sample(int(visitors[e, d, a]), int(buyers[e, d, a]))
                if binary
                else Sample(int(visitors[e, d, a]), revenue[e, d, a], squares[e, d, a])
                for a in (0, 1)
            ]
            estimate = compare(*arms, binary=binary, relative=relative, sequential=sequential)
            p[e, d] = 1.0 if estimate.p_value is None else estimate.p_value
    return p


def _false_positive_rate(p: np.ndarray, gate: int = 0) -> float:
    readable = _cumulative_sums()[1].min(axis=2) >= gate
    return float(((p < 0.05) & readable).any(axis=1).mean())


METRICS = [pytest.param(True, id="conversion-rate"), pytest.param(False, id="revenue")]


@pytest.mark.parametrize("binary", METRICS)
def test_reading_the_fixed_horizon_p_value_daily_inflates_false_positives(binary):
    fixed = _p_values(binary=binary, relative=False, sequential=False)
    assert _false_positive_rate(fixed[:, -1:]) <= 0.09  # read once: about 5 %
    assert _false_positive_rate(fixed) >= 0.15  # read daily: the peeking problem


@pytest.mark.parametrize("binary", METRICS)
def test_the_sequential_absolute_uplift_read_daily_from_day_one_stays_under_5_percent(binary):
    sequential = _p_values(binary=binary, relative=False, sequential=True)
    assert _false_positive_rate(sequential) <= BOUND


@pytest.mark.parametrize("binary", METRICS)
def test_the_sequential_relative_uplift_read_daily_once_readable_stays_under_5_percent(binary):
    sequential = _p_values(binary=binary, relative=True, sequential=True)
    assert _false_positive_rate(sequential, gate=MIN_EVENTS_PER_ARM) <= BOUND
