"""experiments.statistics on hand-made inputs: degenerate data, bad input, independent checks."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import numpy as np
import pytest
from scipy import stats as sps

from experiments import stats as stats_module
from experiments.statistics import (
    Estimate,
    Sample,
    achieved_power,
    adjust_p_values,
    compare,
    minimum_detectable_effect,
    minimum_sample_size_per_arm,
    sample_size_per_arm,
)
from experiments.statistics.power import MIN_SAMPLE_PER_ARM

UNDEFINED = Estimate(None, None, None, None)
FLAGS = [
    {"relative": relative, "sequential": sequential}
    for relative in (True, False)
    for sequential in (False, True)
]


def _sums(values: np.ndarray, pre: np.ndarray | None = None) -> Sample:
    """Sufficient statistics of per-unit values (and their covariate)."""
    if pre is None:
        return Sample(len(values), float(values.sum()), float((values**2).sum()))
    return Sample(
        len(values),
        float(values.sum()),
        float((values**2).sum()),
        pre_sum=float(pre.sum()),
        pre_sum_squares=float((pre**2).sum()),
        post_pre_sum_products=float((values * pre).sum()),
    )


def _json_safe(estimate: Estimate) -> bool:
    json.dumps(asdict(estimate), allow_nan=False)
    return True


# ------------------------------------------------------------------ degenerate inputs

DEGENERATE_CONVERSIONS = [
    pytest.param(Sample(0, 0), Sample(100, 5), id="empty-control"),
    pytest.param(Sample(100, 5), Sample(0, 0), id="empty-variant"),
    pytest.param(Sample(1, 1), Sample(100, 5), id="one-unit-control"),
    pytest.param(Sample(100, 0), Sample(100, 5), id="no-control-conversions"),
    pytest.param(Sample(100, 5), Sample(100, 0), id="no-variant-conversions"),
    pytest.param(Sample(100, 0), Sample(100, 0), id="no-conversions-at-all"),
    pytest.param(Sample(100, 100), Sample(100, 97), id="control-always-converts"),
]


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: "-".join(k for k, v in f.items() if v))
@pytest.mark.parametrize(("control", "variant"), DEGENERATE_CONVERSIONS)
def test_degenerate_conversion_data_gives_none_never_nan(control, variant, flags):
    estimate = compare(control, variant, **flags)
    assert estimate == UNDEFINED
    assert _json_safe(estimate)


DEGENERATE_VALUES = [
    pytest.param(Sample(1, 5.0, 25.0), Sample(10, 30.0, 200.0), id="one-unit"),
    pytest.param(Sample(50, 100.0, 200.0), Sample(50, 120.0, 400.0), id="constant-control"),
    pytest.param(Sample(50, 0.0, 0.0), Sample(50, 120.0, 400.0), id="all-zero-control"),
    pytest.param(Sample(40, 0.0, 360.0), Sample(40, 12.0, 300.0), id="control-mean-zero"),
    pytest.param(Sample(50, 100.0, 100.0), Sample(50, 120.0, 400.0), id="negative-variance"),
]


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: "-".join(k for k, v in f.items() if v))
@pytest.mark.parametrize(("control", "variant"), DEGENERATE_VALUES)
def test_degenerate_value_data_gives_none_never_nan(control, variant, flags):
    estimate = compare(control, variant, binary=False, **flags)
    assert estimate == UNDEFINED
    assert _json_safe(estimate)


def test_cuped_with_a_covariate_equal_to_the_metric_leaves_nothing_to_test():
    values = np.arange(30, dtype=float) % 7
    arm = _sums(values, values)
    estimate = compare(arm, _sums(values + 1, values + 1), binary=False, cuped=True)
    assert estimate == UNDEFINED


def test_overflowing_sums_give_none_rather_than_infinity():
    control = Sample(10, 1e200, 1e300)
    variant = Sample(10, 2e200, 1e305)
    for flags in FLAGS:
        estimate = compare(control, variant, binary=False, **flags)
        assert _json_safe(estimate)
        assert all(v is None or math.isfinite(v) for v in asdict(estimate).values())


def test_a_huge_effect_has_a_p_value_of_zero_not_an_overflow():
    control, variant = Sample(10_000_000, 100_000), Sample(10_000_000, 200_000)
    assert compare(control, variant, sequential=True).p_value == 0.0
    assert compare(control, variant).p_value == 0.0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "arguments",
    [
        {"n": -1, "sum": 0},
        {"n": 2.5, "sum": 1},
        {"n": float("nan"), "sum": 1},
        {"n": 10, "sum": float("nan")},
        {"n": 10, "sum": 1, "sum_squares": float("inf")},
        {"n": 10, "sum": 1, "pre_sum": float("-inf")},
    ],
)
def test_impossible_samples_are_refused(arguments):
    with pytest.raises(ValueError):
        Sample(**arguments)


def test_a_whole_float_count_is_accepted_as_an_int():
    assert Sample(n=100.0, sum=3).n == 100
    assert isinstance(Sample(n=np.int64(7), sum=3).n, int)


@pytest.mark.parametrize(
    ("control", "variant", "options"),
    [
        (Sample(10, 11), Sample(10, 3), {}),  # more conversions than units
        (Sample(10, -1), Sample(10, 3), {}),
        (Sample(10, 3.0), Sample(10, 3.0), {"binary": False}),  # no sum of squares
        (Sample(10, 3), Sample(10, 3), {"cuped": True}),  # no covariate
        (Sample(10, 3, pre_sum=11, post_pre_sum_products=3), Sample(10, 3), {"cuped": True}),
        (Sample(10, 3), Sample(10, 4), {"alpha": 0}),
        (Sample(10, 3), Sample(10, 4), {"alpha": 1.0}),
        (Sample(10, 3), Sample(10, 4), {"sequential": True, "sequential_tuning": 0}),
    ],
)
def test_inputs_that_do_not_fit_the_analysis_are_refused(control, variant, options):
    with pytest.raises(ValueError):
        compare(control, variant, **options)


# ------------------------------------------------------------ independent computations


def test_absolute_conversion_uplift_is_welchs_t_test_with_proportion_variances():
    n_a, x_a, n_b, x_b = 1000, 100, 1200, 150
    p_a, p_b = x_a / n_a, x_b / n_b
    v_a, v_b = p_a * (1 - p_a) / n_a, p_b * (1 - p_b) / n_b
    dof = (v_a + v_b) ** 2 / (v_a**2 / (n_a - 1) + v_b**2 / (n_b - 1))
    se = math.sqrt(v_a + v_b)
    estimate = compare(Sample(n_a, x_a), Sample(n_b, x_b), relative=False)
    assert estimate.point == pytest.approx(p_b - p_a, abs=1e-15)
    half_width = sps.t.ppf(0.975, dof) * se
    assert estimate.ci_low == pytest.approx(p_b - p_a - half_width, abs=1e-12)
    assert estimate.ci_high == pytest.approx(p_b - p_a + half_width, abs=1e-12)
    assert estimate.p_value == pytest.approx(2 * sps.t.sf((p_b - p_a) / se, dof), rel=1e-9)


def test_value_metric_matches_scipys_welch_test_on_the_raw_values():
    rng = np.random.default_rng(3)
    a = rng.lognormal(3, 1, 400) * (rng.random(400) < 0.2)
    b = rng.lognormal(3.2, 1, 380) * (rng.random(380) < 0.2)
    estimate = compare(_sums(a), _sums(b), relative=False, binary=False)
    assert estimate.point == pytest.approx(b.mean() - a.mean(), rel=1e-12)
    assert estimate.p_value == pytest.approx(sps.ttest_ind(b, a, equal_var=False).pvalue, rel=1e-9)


def test_cuped_uses_theta_of_both_arms_pooled():
    rng = np.random.default_rng(7)
    pre_a, pre_b = rng.gamma(2, 50, 500), rng.gamma(2, 50, 450)
    post_a = 0.8 * pre_a + rng.normal(0, 20, 500)
    post_b = 0.8 * pre_b + rng.normal(5, 20, 450)
    pooled_pre, pooled_post = np.concatenate([pre_a, pre_b]), np.concatenate([post_a, post_b])
    theta = np.cov(pooled_post, pooled_pre)[0, 1] / np.var(pooled_pre, ddof=1)
    adjusted = (post_b.mean() - theta * pre_b.mean()) - (post_a.mean() - theta * pre_a.mean())
    control, variant = _sums(post_a, pre_a), _sums(post_b, pre_b)
    cuped = compare(control, variant, relative=False, binary=False, cuped=True)
    plain = compare(control, variant, relative=False, binary=False)
    assert cuped.point == pytest.approx(adjusted, rel=1e-9)
    assert cuped.ci_high - cuped.ci_low < 0.5 * (plain.ci_high - plain.ci_low)


def test_cuped_with_an_uninformative_covariate_is_the_plain_analysis():
    control = Sample(200, 30, pre_sum=0, post_pre_sum_products=0)
    variant = Sample(210, 42, pre_sum=0, post_pre_sum_products=0)
    for flags in FLAGS:
        assert compare(control, variant, cuped=True, **flags) == compare(control, variant, **flags)


def test_relative_uplift_is_the_ratio_of_means_minus_one():
    estimate = compare(Sample(2000, 100), Sample(2000, 120))
    assert estimate.point == pytest.approx(0.2, abs=1e-15)
    assert estimate.ci_low < 0.2 < estimate.ci_high


def test_swapping_the_arms_negates_the_absolute_uplift():
    a, b = Sample(3000, 150), Sample(2800, 170)
    forward, backward = compare(a, b, relative=False), compare(b, a, relative=False)
    assert forward.point == pytest.approx(-backward.point, abs=1e-15)
    assert forward.p_value == pytest.approx(backward.p_value, rel=1e-12)


@pytest.mark.parametrize("n", [100, 1_000, 10_000, 100_000, 1_000_000])
def test_the_sequential_interval_is_wider_than_the_fixed_one_and_its_p_value_larger(n):
    control, variant = Sample(n, round(0.05 * n)), Sample(n, round(0.055 * n))
    fixed, sequential = compare(control, variant), compare(control, variant, sequential=True)
    assert sequential.ci_low < fixed.ci_low and fixed.ci_high < sequential.ci_high
    assert sequential.p_value >= fixed.p_value


def test_the_sequential_interval_is_tightest_near_the_tuning_size():
    control, variant = Sample(50_000, 2_500), Sample(50_000, 2_600)
    widths = {
        tuning: compare(control, variant, sequential=True, sequential_tuning=tuning)
        for tuning in (1_000, 100_000, 10_000_000)
    }
    width = {t: e.ci_high - e.ci_low for t, e in widths.items()}
    assert width[100_000] < width[1_000] and width[100_000] < width[10_000_000]


def test_a_looser_alpha_gives_a_narrower_interval():
    control, variant = Sample(5000, 250), Sample(5000, 300)
    for sequential in (False, True):
        strict = compare(control, variant, alpha=0.01, sequential=sequential)
        loose = compare(control, variant, alpha=0.1, sequential=sequential)
        assert loose.ci_high - loose.ci_low < strict.ci_high - strict.ci_low
    # the fixed-horizon p-value does not depend on alpha; the sequential one does (through rho)
    assert compare(control, variant, alpha=0.01).p_value == pytest.approx(
        compare(control, variant, alpha=0.1).p_value, rel=1e-12
    )


# ------------------------------------------------------------------------ corrections


def test_adjusted_p_values_keep_the_order_and_skip_missing_comparisons():
    p = [0.04, None, 0.01, 0.03, 1.0]
    assert adjust_p_values(p, "holm") == pytest.approx([0.09, None, 0.04, 0.09, 1.0])
    # bh: sorted 0.01, 0.03, 0.04, 1 -> 0.04, 0.06, 0.0533, 1 -> from the top down 0.04, 0.0533, ...
    assert adjust_p_values(p, "bh") == pytest.approx([0.16 / 3, None, 0.04, 0.16 / 3, 1.0])
    assert adjust_p_values([], "holm") == []
    assert adjust_p_values([None], "bh") == [None]
    assert adjust_p_values([0.2], "holm") == [0.2]


def test_holm_is_never_below_bh_and_bh_never_below_the_raw_p_values():
    rng = np.random.default_rng(11)
    for _ in range(200):
        p = list(rng.beta(0.5, 1, rng.integers(1, 30)))
        holm, bh = adjust_p_values(p, "holm"), adjust_p_values(p, "bh")
        assert all(
            h >= b - 1e-15 and b >= raw - 1e-15 for h, b, raw in zip(holm, bh, p, strict=True)
        )


@pytest.mark.parametrize(
    ("p_values", "method"),
    [([0.1], "bonferroni"), ([0.1], "fdr_bh"), ([1.5], "holm"), ([-0.1], "bh"), ([math.nan], "bh")],
)
def test_unknown_methods_and_impossible_p_values_are_refused(p_values, method):
    with pytest.raises(ValueError):
        adjust_p_values(p_values, method)


# ------------------------------------------------------------------------------- power


def test_the_minimum_plan_is_thirty_per_arm_and_ten_expected_events_of_each_kind():
    assert MIN_SAMPLE_PER_ARM == stats_module.MIN_EXPOSURES
    assert minimum_sample_size_per_arm() == 30
    assert minimum_sample_size_per_arm(0.5) == 30
    assert minimum_sample_size_per_arm(0.1) == 100
    assert minimum_sample_size_per_arm(0.01) == 1000
    assert minimum_sample_size_per_arm(0.98) == 500


def test_a_plan_is_never_below_the_minimum():
    # 50 % -> 90 % needs about 20 per arm by the formula; the minimum asks for 30
    assert sample_size_per_arm(0.5, 0.8) == 30
    assert achieved_power(30, 0.5, 0.8) > 0.8


def test_the_minimum_detectable_effect_inverts_the_power():
    mde = minimum_detectable_effect(14_749, 0.10)
    assert mde == pytest.approx(0.10, abs=1e-4)
    assert achieved_power(14_749, 0.10, mde) == pytest.approx(0.8, abs=1e-9)
    decrease = minimum_detectable_effect(14_749, 0.10, direction=-1)
    assert -0.1 < decrease < 0
    # with 2 units per arm even a drop from 50 % to 0 % is not detected 80 % of the time
    assert minimum_detectable_effect(2, 0.5, direction=-1) is None


@pytest.mark.parametrize(
    ("baseline", "mde", "options"),
    [
        (0.0, 0.1, {}),
        (1.0, 0.1, {}),
        (0.1, 0.0, {}),
        (0.6, 1.0, {}),  # 120 % is not a rate
        (0.1, -1.0, {}),  # 0 % neither
        (0.1, 0.1, {"alpha": 0.0}),
        (0.1, 0.1, {"power": 1.0}),
        (0.1, 0.1, {"power": 0.01}),  # below alpha
    ],
)
def test_impossible_plans_are_refused(baseline, mde, options):
    with pytest.raises(ValueError):
        sample_size_per_arm(baseline, mde, **options)


def test_the_new_names_are_importable_from_experiments_stats():
    assert stats_module.compare is compare
    assert stats_module.Sample is Sample
    assert stats_module.adjust_p_values is adjust_p_values
    assert stats_module.sample_size_per_arm is sample_size_per_arm
