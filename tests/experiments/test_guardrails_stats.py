"""The one-sided test for harm on a guardrail (`experiments.stats.harm`): the fixed-horizon test is
scipy's one-sided Welch t-test; the sequential one is the harmful side of the 1 - 2 alpha
confidence sequence; a variant that stops every conversion is still caught; and, read every day
in seeded A/A experiments, the sequential test raises a false alarm in at most alpha of them —
while the fixed-horizon one read daily does not (so the simulation can fail)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy import stats as scipy_stats

from experiments.stats import Harm, Sample, compare, harm

ALPHA = 0.05


def _random_cases(seed: int, count: int):
    """(control, variant) conversion samples with rates 0.5-30 % and 50-20,000 units per arm."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = rng.integers(50, 20_000, 2)
        rate = rng.uniform(0.005, 0.3)
        lift = rng.uniform(0.7, 1.4)
        conversions = rng.binomial(n, [rate, min(rate * lift, 0.99)])
        yield Sample(int(n[0]), int(conversions[0])), Sample(int(n[1]), int(conversions[1]))


def _scipy_welch(control: Sample, variant: Sample, alternative: str):
    """scipy's Welch t-test on the two proportions (variance p(1 - p), as `compare` uses)."""
    rates = [s.sum / s.n for s in (variant, control)]
    sds = [np.sqrt(p * (1 - p)) for p in rates]
    return scipy_stats.ttest_ind_from_stats(
        rates[0], sds[0], variant.n, rates[1], sds[1], control.n,
        equal_var=False, alternative=alternative,
    )  # fmt: skip


# FIXED HORIZON: SCIPY'S ONE-SIDED WELCH T-TEST
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "alternative"), [("increase", "greater"), ("decrease", "less")]
)
def test_the_fixed_horizon_p_value_is_scipy_s_one_sided_welch_t_test(direction, alternative):
    checked = 0
    for control, variant in _random_cases(seed=16, count=500):
        result = harm(control, variant, direction=direction, sequential=False, alpha=ALPHA)
        if result.p_value is None:
            continue
        reference = _scipy_welch(control, variant, alternative)
        assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-12)
        assert result.harmful == (reference.pvalue < ALPHA)
        checked += 1
    assert checked >= 490


@pytest.mark.parametrize("direction", ["increase", "decrease"])
def test_the_fixed_horizon_bound_is_the_one_sided_t_interval(direction):
    for control, variant in _random_cases(seed=17, count=200):
        result = harm(control, variant, direction=direction, sequential=False, alpha=ALPHA)
        terms = [(s.sum / s.n) * (1 - s.sum / s.n) / s.n for s in (control, variant)]
        se = np.sqrt(sum(terms))
        dof = sum(terms) ** 2 / sum(
            t**2 / (s.n - 1) for t, s in zip(terms, (control, variant), strict=True)
        )
        margin = scipy_stats.t.ppf(1 - ALPHA, dof) * se
        expected = result.point - margin if direction == "increase" else result.point + margin
        assert result.bound == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_a_value_metric_agrees_with_scipy_on_the_raw_values():
    rng = np.random.default_rng(5)
    for _ in range(50):
        a = rng.lognormal(3, 0.8, rng.integers(20, 400))
        b = rng.lognormal(3.1, 0.8, rng.integers(20, 400))
        control = Sample(len(a), float(a.sum()), float((a**2).sum()))
        variant = Sample(len(b), float(b.sum()), float((b**2).sum()))
        result = harm(
            control, variant, direction="decrease", sequential=False, binary=False, alpha=0.1
        )
        reference = scipy_stats.ttest_ind(b, a, equal_var=False, alternative="less")
        assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-12)


def test_the_relative_fixed_horizon_test_halves_compare_s_two_sided_p_value():
    for control, variant in _random_cases(seed=18, count=200):
        two_sided = compare(control, variant, relative=True, alpha=ALPHA)
        result = harm(control, variant, direction="increase", relative=True, sequential=False)
        if two_sided.p_value is None:
            assert result == Harm(None, None, None, False)
            continue
        expected = two_sided.p_value / 2 if two_sided.point > 0 else 1 - two_sided.p_value / 2
        assert result.p_value == pytest.approx(expected, rel=1e-12)
        assert result.point == two_sided.point


# SEQUENTIAL: THE HARMFUL SIDE OF THE 1 - 2 ALPHA CONFIDENCE SEQUENCE
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["increase", "decrease"])
def test_sequential_harm_is_the_harmful_bound_of_the_two_alpha_sequence(direction):
    flagged = 0
    for control, variant in _random_cases(seed=19, count=400):
        result = harm(control, variant, direction=direction, alpha=ALPHA)
        sequence = compare(control, variant, relative=False, sequential=True, alpha=2 * ALPHA)
        if sequence.p_value is None:
            continue
        towards_harm = (sequence.point > 0) == (direction == "increase")
        bound = sequence.ci_low if direction == "increase" else sequence.ci_high
        assert result.bound == pytest.approx(bound, rel=1e-12)
        assert result.p_value == pytest.approx(
            sequence.p_value / 2 if towards_harm else 1.0, rel=1e-12
        )
        # the p-value and the bound tell the same story
        assert result.harmful == (result.p_value < ALPHA)
        flagged += result.harmful
    assert flagged > 20  # the cases include real harm


def test_the_sequential_bound_is_wider_than_the_fixed_horizon_one():
    control, variant = Sample(5000, 100), Sample(5000, 140)
    sequential = harm(control, variant, direction="increase")
    fixed = harm(control, variant, direction="increase", sequential=False)
    assert sequential.point == fixed.point == pytest.approx(0.008)
    assert sequential.bound < fixed.bound < sequential.point


def test_a_clear_harm_by_hand():
    # unsubscribes 2.0 % → 3.0 % of 10,000 visitors per arm: +1 point, clearly harmful;
    # the other direction sees no harm at all
    control, variant = Sample(10_000, 200), Sample(10_000, 300)
    up = harm(control, variant, direction="increase")
    assert up.harmful and up.point == pytest.approx(0.01) and 0 < up.bound < 0.01
    assert up.p_value < 0.001
    down = harm(control, variant, direction="decrease")
    assert not down.harmful and down.p_value == 1.0 and down.bound > 0.01


def test_no_difference_is_no_harm():
    result = harm(Sample(1000, 50), Sample(1000, 50), direction="increase")
    assert result.point == 0 and not result.harmful and result.p_value >= 0.5


# A VARIANT WITH NO CONVERSIONS AT ALL
# ------------------------------------------------------------------------------


def test_a_variant_that_stops_every_purchase_is_harm():
    # compare() gives no answer when one arm has no variation; a guardrail must still see it
    control, variant = Sample(1000, 40), Sample(1000, 0)
    assert compare(control, variant, relative=False).p_value is None
    result = harm(control, variant, direction="decrease")
    assert result.harmful and result.point == pytest.approx(-0.04) and result.bound < 0
    fixed = harm(control, variant, direction="decrease", sequential=False)
    reference = _scipy_welch(control, variant, "less")
    assert fixed.p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_no_conversions_anywhere_gives_no_answer():
    assert harm(Sample(1000, 0), Sample(1000, 0), direction="increase") == Harm(
        None, None, None, False
    )
    assert harm(Sample(1, 1), Sample(1000, 3), direction="increase").p_value is None


@pytest.mark.parametrize(
    "arguments",
    [
        {"direction": "up"},
        {"direction": "increase", "alpha": 0.5},
        {"direction": "decrease", "alpha": 0},
    ],
)
def test_bad_settings_are_refused(arguments):
    with pytest.raises(ValueError):
        harm(Sample(100, 10), Sample(100, 12), **arguments)


# A/A: READ DAILY, THE SEQUENTIAL TEST RAISES FALSE ALARMS IN AT MOST ALPHA OF EXPERIMENTS
# ------------------------------------------------------------------------------

EXPERIMENTS, DAYS = 300, 30


@cache
def _aa(rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative (visitors, conversions) by day of seeded A/A experiments, (experiments,
    days, 2)."""
    rng = np.random.default_rng(20260416 + int(rate * 10_000))
    visitors = rng.poisson(250, (EXPERIMENTS, DAYS, 2))
    conversions = rng.binomial(visitors, rate)
    return visitors.cumsum(axis=1), conversions.cumsum(axis=1)


def _alarm_rate(rate: float, direction: str, sequential: bool) -> float:
    visitors, conversions = _aa(rate)
    alarmed = 0
    for e in range(EXPERIMENTS):
        for d in range(DAYS):
            arms = [Sample(int(visitors[e, d, a]), int(conversions[e, d, a])) for a in (0, 1)]
            if harm(*arms, direction=direction, sequential=sequential, alpha=ALPHA).harmful:
                alarmed += 1
                break
    return alarmed / EXPERIMENTS


@pytest.mark.parametrize("rate", [0.04, 0.003])  # purchases; unsubscribes (rare)
@pytest.mark.parametrize("direction", ["increase", "decrease"])
def test_aa_read_daily_the_sequential_test_stays_under_alpha(rate, direction):
    assert _alarm_rate(rate, direction, sequential=True) <= ALPHA


def test_aa_read_daily_the_fixed_horizon_test_would_not():
    assert _alarm_rate(0.04, "increase", sequential=False) >= 0.12


def test_a_real_harm_is_caught_within_the_month():
    # unsubscribes doubling from 0.5 % to 1 %, 250 visitors per arm a day
    rng = np.random.default_rng(7)
    caught = 0
    for _ in range(100):
        daily = rng.poisson(250, (DAYS, 2))
        converted = rng.binomial(daily, [0.005, 0.01]).cumsum(axis=0)
        visitors = daily.cumsum(axis=0)
        caught += any(
            harm(
                Sample(int(visitors[d, 0]), int(converted[d, 0])),
                Sample(int(visitors[d, 1]), int(converted[d, 1])),
                direction="increase",
            ).harmful
            for d in range(DAYS)
        )
    assert caught >= 80
