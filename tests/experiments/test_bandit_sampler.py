"""Thompson sampling on its own (no database): seeded and reproducible, close to the exact chance
to be best, converging on a clear winner, the exploration floor held and the burn-in equal."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from experiments.statistics.bandit import (
    BURN_IN,
    THOMPSON,
    Arm,
    apply_floor,
    bandit_allocation,
    chance_to_be_best,
    draw_seed,
    rounded_weights,
)

TOLERANCE = 1e-6  # stored weights are rounded to 1e-6


def test_the_same_seed_gives_the_same_chances_and_another_seed_other_draws():
    arms = [Arm(300, 30), Arm(300, 36), Arm(300, 33)]
    first = chance_to_be_best(arms, seed=draw_seed("tip-test", 12))
    assert chance_to_be_best(arms, seed=draw_seed("tip-test", 12)) == first
    assert chance_to_be_best(arms, seed=draw_seed("tip-test", 13)) != first
    assert sum(first) == pytest.approx(1)


def exact_chance_b_beats_a(a: Arm, b: Arm) -> float:
    """P(rate B > rate A) for independent Beta posteriors, by numerical integration."""
    post_a = stats.beta(1 + a.conversions, 1 + a.exposures - a.conversions)
    post_b = stats.beta(1 + b.conversions, 1 + b.exposures - b.conversions)
    value, _error = integrate.quad(lambda x: post_b.pdf(x) * post_a.cdf(x), 0, 1, limit=200)
    return value


@pytest.mark.parametrize(
    ("a", "b"),
    [(Arm(200, 20), Arm(200, 26)), (Arm(1000, 50), Arm(900, 50)), (Arm(40, 0), Arm(40, 1))],
)
def test_two_arms_agree_with_the_exact_chance_to_be_best(a, b):
    chances = chance_to_be_best([a, b], seed=7)
    assert chances[1] == pytest.approx(exact_chance_b_beats_a(a, b), abs=0.015)


def test_a_clear_winner_takes_all_but_the_floor():
    arms = [Arm(2000, 100), Arm(2000, 200), Arm(2000, 104)]
    allocation = bandit_allocation(arms, burn_in=200, floor=0.05, seed=1)
    assert allocation.phase == THOMPSON
    assert allocation.chance_to_be_best[1] > 0.999
    assert allocation.weights[0] == pytest.approx(0.05, abs=TOLERANCE)
    assert allocation.weights[2] == pytest.approx(0.05, abs=TOLERANCE)
    assert allocation.weights[1] == pytest.approx(0.90, abs=TOLERANCE)
    assert sum(allocation.weights) == pytest.approx(1, abs=1e-9)


def test_burn_in_keeps_weights_equal_until_every_arm_has_enough_exposures():
    lopsided = [Arm(5000, 50), Arm(5000, 500), Arm(199, 100)]
    allocation = bandit_allocation(lopsided, burn_in=200, floor=0.05, seed=1)
    assert allocation.phase == BURN_IN
    assert allocation.weights == pytest.approx([1 / 3] * 3, abs=TOLERANCE)
    assert allocation.chance_to_be_best is None
    after = bandit_allocation([*lopsided[:2], Arm(200, 100)], burn_in=200, floor=0.05, seed=1)
    assert after.phase == THOMPSON


def test_a_simulated_bandit_converges_on_the_best_arm_and_keeps_exploring():
    """Three arms (5 %, 5 %, 8 %), 600 visitors between reweightings, seeded: after the burn-in
    the best arm ends with most of the traffic; the others never drop under the floor."""
    rng = np.random.default_rng(2024)
    rates = np.array([0.05, 0.05, 0.08])
    exposures, conversions = np.zeros(3, dtype=int), np.zeros(3, dtype=int)
    weights = [1 / 3] * 3
    history = []
    for period in range(40):
        served = rng.multinomial(600, weights)
        exposures += served
        conversions += rng.binomial(served, rates)
        arms = [Arm(int(n), int(c)) for n, c in zip(exposures, conversions, strict=True)]
        allocation = bandit_allocation(arms, burn_in=200, floor=0.05, seed=draw_seed("sim", period))
        weights = list(allocation.weights)
        history.append(weights)
        assert min(weights) >= 0.05 - TOLERANCE
    assert history[0] == pytest.approx([1 / 3] * 3, abs=TOLERANCE)  # burn-in
    assert weights[2] > 0.85
    # most visitors went to the best arm: the bandit earned more than an equal split would
    assert exposures[2] > exposures[0] + exposures[1]


@given(
    weights=st.lists(st.floats(0, 1), min_size=2, max_size=8),
    floor=st.floats(0, 0.5, exclude_max=True),
)
def test_the_floor_holds_and_the_weights_sum_to_one(weights, floor):
    if floor * len(weights) > 1:
        with pytest.raises(ValueError):
            apply_floor(weights, floor)
        return
    floored = apply_floor(weights, floor)
    assert sum(floored) == pytest.approx(1)
    assert min(floored) >= floor - 1e-12
    # arms left above the floor keep their ratios to each other
    above = [(w, f) for w, f in zip(weights, floored, strict=True) if f > floor + 1e-9]
    for (w1, f1), (w2, f2) in zip(above, above[1:], strict=False):
        assert w1 * f2 == pytest.approx(w2 * f1, abs=1e-9)


def test_a_floor_that_takes_all_the_traffic_means_equal_weights():
    assert apply_floor([0.9, 0.1, 0.0, 0.0], 0.25) == pytest.approx([0.25] * 4)


def test_stored_weights_are_rounded_and_still_sum_to_one():
    weights = rounded_weights([1 / 3, 1 / 3, 1 / 3])
    assert all(len(f"{w:.10f}".rstrip("0").split(".")[1]) <= 6 for w in weights)
    assert sum(weights) == pytest.approx(1, abs=1e-12)


@pytest.mark.parametrize("arms", [[], [Arm(10, 11)], [Arm(-1, 0)]])
def test_impossible_counts_are_refused(arms):
    with pytest.raises(ValueError):
        bandit_allocation(arms, burn_in=0, floor=0.05, seed=1)
