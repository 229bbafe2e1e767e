"""experiments.stats checked against independent computations on fixed tables."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

import numpy as np
import pytest
from scipy import special
from scipy import stats as sps

from experiments.stats import (
    MIN_EXPOSURES,
    ExperimentAnalysis,
    SrmResult,
    VariantInput,
    VariantResult,
    analyse,
    srm_check,
)

Z95 = sps.norm.ppf(0.975)
UPLIFT_FIELDS = (
    "abs_uplift",
    "abs_ci_low",
    "abs_ci_high",
    "rel_uplift",
    "rel_ci_low",
    "rel_ci_high",
    "p_value",
    "chance_to_beat_control",
)

# (control exposures, control conversions, variant exposures, variant conversions)
TABLES = [
    pytest.param(1000, 100, 1000, 130, id="10pct-vs-13pct"),
    pytest.param(5000, 250, 5000, 300, id="5pct-vs-6pct"),
    pytest.param(20000, 1200, 19800, 1150, id="large-slightly-worse"),
    pytest.param(120, 12, 130, 25, id="small-uneven"),
    pytest.param(400, 200, 410, 200, id="near-half"),
]


def _pair(n_c: int, x_c: int, n_v: int, x_v: int) -> VariantResult:
    """Analyse a control/variant pair and return the variant row."""
    analysis = analyse(
        [
            VariantInput(name="control", weight=0.5, exposures=n_c, conversions=x_c),
            VariantInput(name="variant", weight=0.5, exposures=n_v, conversions=x_v),
        ]
    )
    return analysis.variants[1]


def _exact_chance_to_beat(n_c: int, x_c: int, n_v: int, x_v: int) -> float:
    """Closed-form P(B > A) for Beta posteriors (Evan Miller's sum), independent of quadrature."""
    a1, b1 = 1 + x_c, 1 + n_c - x_c
    a2, b2 = 1 + x_v, 1 + n_v - x_v
    i = np.arange(a2)
    terms = (
        special.betaln(a1 + i, b1 + b2)
        - np.log(b2 + i)
        - special.betaln(1 + i, b2)
        - special.betaln(a1, b1)
    )
    return float(np.exp(terms).sum())


def _walk_floats(value: Any) -> list[float]:
    """Collect every float nested in dicts and lists."""
    if isinstance(value, dict):
        return [f for v in value.values() for f in _walk_floats(v)]
    if isinstance(value, list | tuple):
        return [f for v in value for f in _walk_floats(v)]
    return [value] if isinstance(value, float) else []


def _assert_clean(analysis: ExperimentAnalysis) -> dict[str, Any]:
    """Assert the analysis has no NaN/inf and is strict-JSON serialisable; return it as a dict."""
    data = asdict(analysis)
    assert all(math.isfinite(f) for f in _walk_floats(data))
    json.dumps(data, allow_nan=False)
    return data


# --- frequentist statistics ------------------------------------------------------------------


@pytest.mark.parametrize(("n_c", "x_c", "n_v", "x_v"), TABLES)
def test_p_value_matches_hand_computed_z_test(n_c: int, x_c: int, n_v: int, x_v: int) -> None:
    """p-value equals a hand-computed pooled two-proportion z-test."""
    pooled = (x_c + x_v) / (n_c + n_v)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_v))
    z = (x_v / n_v - x_c / n_c) / se
    expected = 2 * sps.norm.sf(abs(z))
    assert _pair(n_c, x_c, n_v, x_v).p_value == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("n_c", "x_c", "n_v", "x_v"), TABLES)
def test_p_value_matches_uncorrected_chi_square(n_c: int, x_c: int, n_v: int, x_v: int) -> None:
    """For a 2x2 table the z-test p-value equals chi2_contingency without Yates correction."""
    table = [[x_c, n_c - x_c], [x_v, n_v - x_v]]
    expected = sps.chi2_contingency(table, correction=False).pvalue
    assert _pair(n_c, x_c, n_v, x_v).p_value == pytest.approx(expected, rel=1e-7, abs=1e-12)


@pytest.mark.parametrize(("n_c", "x_c", "n_v", "x_v"), TABLES)
def test_absolute_uplift_and_wald_interval(n_c: int, x_c: int, n_v: int, x_v: int) -> None:
    """Absolute uplift and its unpooled Wald 95 % interval match the textbook formula."""
    p_c, p_v = x_c / n_c, x_v / n_v
    se = math.sqrt(p_c * (1 - p_c) / n_c + p_v * (1 - p_v) / n_v)
    row = _pair(n_c, x_c, n_v, x_v)
    assert row.rate == pytest.approx(p_v)
    assert row.abs_uplift == pytest.approx(p_v - p_c)
    assert row.abs_ci_low == pytest.approx(p_v - p_c - Z95 * se)
    assert row.abs_ci_high == pytest.approx(p_v - p_c + Z95 * se)


@pytest.mark.parametrize(("n_c", "x_c", "n_v", "x_v"), TABLES)
def test_relative_uplift_and_log_ratio_interval(n_c: int, x_c: int, n_v: int, x_v: int) -> None:
    """Relative uplift uses the rate ratio; its interval is the delta method on log(ratio)."""
    p_c, p_v = x_c / n_c, x_v / n_v
    se_log = math.sqrt(1 / x_v - 1 / n_v + 1 / x_c - 1 / n_c)
    row = _pair(n_c, x_c, n_v, x_v)
    assert row.rel_uplift == pytest.approx(p_v / p_c - 1)
    assert row.rel_ci_low == pytest.approx((p_v / p_c) * math.exp(-Z95 * se_log) - 1)
    assert row.rel_ci_high == pytest.approx((p_v / p_c) * math.exp(Z95 * se_log) - 1)
    assert row.rel_ci_low < row.rel_uplift < row.rel_ci_high


def test_known_table_values() -> None:
    """Spot-check one table against values worked out by hand."""
    row = _pair(1000, 100, 1000, 130)
    assert row.abs_uplift == pytest.approx(0.03)
    assert row.rel_uplift == pytest.approx(0.30)
    assert row.p_value == pytest.approx(0.0355, abs=5e-4)  # z = 0.03 / 0.014267 = 2.103
    assert row.enough_data is True
    assert row.note == ""


def test_each_arm_is_compared_with_control() -> None:
    """In a multi-arm test every treatment row is a pairwise comparison with the first arm."""
    arms = [
        VariantInput(name="a", weight=1 / 3, exposures=3000, conversions=300),
        VariantInput(name="b", weight=1 / 3, exposures=3000, conversions=330),
        VariantInput(name="c", weight=1 / 3, exposures=3000, conversions=270),
    ]
    analysis = analyse(arms)
    assert [r.name for r in analysis.variants] == ["a", "b", "c"]
    for arm, row in zip(arms[1:], analysis.variants[1:], strict=True):
        table = [[300, 2700], [arm.conversions, arm.exposures - arm.conversions]]
        expected = sps.chi2_contingency(table, correction=False).pvalue
        assert row.p_value == pytest.approx(expected, rel=1e-7)


def test_control_row_has_no_comparison_fields() -> None:
    """The control row carries its own rate but None for every comparison field."""
    control = analyse(
        [
            VariantInput(name="control", weight=0.5, exposures=1000, conversions=100),
            VariantInput(name="variant", weight=0.5, exposures=1000, conversions=130),
        ]
    ).variants[0]
    assert control.is_control is True
    assert control.rate == pytest.approx(0.1)
    assert all(getattr(control, field) is None for field in UPLIFT_FIELDS)


# --- Bayesian chance to beat control ---------------------------------------------------------


def test_symmetric_arms_have_even_chance() -> None:
    """Identical arms give a chance to beat control of one half."""
    assert _pair(1000, 100, 1000, 100).chance_to_beat_control == pytest.approx(0.5, abs=1e-6)


def test_clearly_better_and_worse_arms() -> None:
    """A clearly better arm is > 0.99 likely to win; a clearly worse one < 0.01."""
    assert _pair(1000, 100, 1000, 200).chance_to_beat_control > 0.99
    assert _pair(1000, 200, 1000, 100).chance_to_beat_control < 0.01


@pytest.mark.parametrize(("n_c", "x_c", "n_v", "x_v"), TABLES)
def test_chance_to_beat_matches_closed_form(n_c: int, x_c: int, n_v: int, x_v: int) -> None:
    """Quadrature agrees with the exact Beta-Beta closed form."""
    expected = _exact_chance_to_beat(n_c, x_c, n_v, x_v)
    assert _pair(n_c, x_c, n_v, x_v).chance_to_beat_control == pytest.approx(expected, abs=1e-5)


def test_chance_to_beat_matches_monte_carlo() -> None:
    """A seeded Monte Carlo estimate of P(variant > control) agrees to within its noise."""
    rng = np.random.default_rng(7)
    control = rng.beta(1 + 250, 1 + 4750, size=400_000)
    variant = rng.beta(1 + 280, 1 + 4720, size=400_000)
    expected = float(np.mean(variant > control))
    assert _pair(5000, 250, 5000, 280).chance_to_beat_control == pytest.approx(expected, abs=3e-3)


def test_chance_to_beat_is_deterministic() -> None:
    """Repeated calls give bit-identical results (no unseeded sampling)."""
    first = _pair(777, 55, 801, 71).chance_to_beat_control
    assert all(_pair(777, 55, 801, 71).chance_to_beat_control == first for _ in range(3))


# --- sample ratio mismatch -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observed", "weights"),
    [
        pytest.param([5000, 5200], [0.5, 0.5], id="even"),
        pytest.param([1980, 3050, 4970], [0.2, 0.3, 0.5], id="uneven-3"),
        pytest.param([5000, 5600], [0.5, 0.5], id="mismatched"),
    ],
)
def test_srm_matches_scipy_chisquare(observed: list[int], weights: list[float]) -> None:
    """SRM p-value equals scipy.stats.chisquare against total * weights."""
    expected_counts = [sum(observed) * w for w in weights]
    expected = sps.chisquare(observed, f_exp=expected_counts).pvalue
    result = srm_check(observed, weights)
    assert result.p_value == pytest.approx(expected, rel=1e-9)
    assert result.mismatch is bool(expected < 0.001)


def test_srm_flags_a_broken_split() -> None:
    """A 5000/5600 split on a 50/50 test is a mismatch; 5000/5050 is not."""
    assert srm_check([5000, 5600], [0.5, 0.5]).mismatch is True
    assert srm_check([5000, 5050], [0.5, 0.5]).mismatch is False


def test_srm_normalises_weights() -> None:
    """Relative weights give the same answer as normalised ones."""
    assert srm_check([2000, 8100], [1, 4]) == srm_check([2000, 8100], [0.2, 0.8])


def test_srm_without_traffic() -> None:
    """No exposures at all means no test and no mismatch."""
    assert srm_check([0, 0], [0.5, 0.5]) == SrmResult(p_value=None, mismatch=False)


def test_srm_traffic_in_zero_weight_arm() -> None:
    """Visitors in an arm configured for 0 % traffic is always a mismatch."""
    assert srm_check([500, 500, 3], [0.5, 0.5, 0.0]) == SrmResult(p_value=0.0, mismatch=True)


def test_srm_rejects_mismatched_lengths() -> None:
    """Counts and weights must line up."""
    with pytest.raises(ValueError):
        srm_check([1, 2, 3], [0.5, 0.5])


def test_analyse_reports_srm() -> None:
    """analyse() runs the SRM check on exposures and configured weights."""
    analysis = analyse(
        [
            VariantInput(name="control", weight=0.5, exposures=5000, conversions=10),
            VariantInput(name="variant", weight=0.5, exposures=5600, conversions=10),
        ]
    )
    assert analysis.srm == srm_check([5000, 5600], [0.5, 0.5])
    assert analysis.srm.mismatch is True


# --- edge cases: never NaN/inf, explain thin data --------------------------------------------

EDGE_CASES = [
    pytest.param([(0, 0), (0, 0)], id="no-exposures"),
    pytest.param([(500, 20), (0, 0)], id="variant-no-exposures"),
    pytest.param([(0, 0), (500, 20)], id="control-no-exposures"),
    pytest.param([(1000, 0), (1000, 0)], id="no-conversions"),
    pytest.param([(5, 1), (4, 0)], id="tiny-sample"),
    pytest.param([(1, 1), (1, 0)], id="one-visitor-each"),
    pytest.param([(10, 10), (12, 12)], id="everyone-converts-tiny"),
]


@pytest.mark.parametrize("arms", EDGE_CASES)
def test_edge_cases_are_finite_and_flagged(arms: list[tuple[int, int]]) -> None:
    """Thin data yields no NaN/inf and every treatment row says 'not enough data'."""
    analysis = analyse(
        [
            VariantInput(name=f"v{i}", weight=1 / len(arms), exposures=n, conversions=x)
            for i, (n, x) in enumerate(arms)
        ]
    )
    _assert_clean(analysis)
    row = analysis.variants[1]
    assert row.enough_data is False
    assert row.note.startswith("not enough data")


@pytest.mark.parametrize(
    "arms",
    [
        pytest.param([(1000, 0), (1000, 25)], id="control-no-conversions"),
        pytest.param([(1000, 25), (1000, 0)], id="variant-no-conversions"),
        pytest.param([(100, 100), (100, 100)], id="everyone-converts"),
        pytest.param([(1000, 50)], id="control-only"),
        pytest.param([(10**7, 123_456), (10**7, 124_999)], id="very-large"),
    ],
)
def test_degenerate_but_sufficient_tables_are_finite(arms: list[tuple[int, int]]) -> None:
    """Zero or full conversion on one side, single arms and huge counts stay NaN/inf-free."""
    analysis = analyse(
        [
            VariantInput(name=f"v{i}", weight=1 / len(arms), exposures=n, conversions=x)
            for i, (n, x) in enumerate(arms)
        ]
    )
    _assert_clean(analysis)


def test_undefined_fields_are_none() -> None:
    """Where a statistic has no meaning it is None, not NaN."""
    no_exposure = _pair(500, 20, 0, 0)
    assert no_exposure.rate is None
    assert all(getattr(no_exposure, field) is None for field in UPLIFT_FIELDS)
    no_conversions = _pair(1000, 0, 1000, 0)
    assert no_conversions.p_value is None
    assert no_conversions.rel_uplift is None
    assert no_conversions.chance_to_beat_control is None
    assert no_conversions.note == "not enough data: no conversions in either arm"
    zero_control = _pair(1000, 0, 1000, 25)
    assert zero_control.rel_uplift is None
    assert zero_control.p_value is not None


def test_small_arms_are_flagged() -> None:
    """Arms below MIN_EXPOSURES are 'not enough data', even with a striking difference."""
    row = _pair(MIN_EXPOSURES - 1, 1, MIN_EXPOSURES - 1, 20)
    assert row.enough_data is False
    assert row.note == f"not enough data: fewer than {MIN_EXPOSURES} exposures per arm"
    assert _pair(MIN_EXPOSURES, 1, MIN_EXPOSURES, 20).enough_data is True


# --- revenue and serialisation ---------------------------------------------------------------


def test_revenue_per_visitor() -> None:
    """Revenue per visitor is value_sum / exposures, None without exposures."""
    analysis = analyse(
        [
            VariantInput(
                name="control", weight=0.5, exposures=200, conversions=10, value_sum=500.0
            ),
            VariantInput(name="variant", weight=0.5, exposures=250, conversions=12, value_sum=0.0),
            VariantInput(name="empty", weight=0.0, exposures=0, conversions=0, value_sum=0.0),
        ]
    )
    assert [r.revenue_per_visitor for r in analysis.variants] == [2.5, 0.0, None]


def test_result_is_json_serialisable() -> None:
    """asdict() output round-trips through strict JSON."""
    analysis = analyse(
        [
            VariantInput(name="control", weight=0.5, exposures=1000, conversions=100),
            VariantInput(name="variant", weight=0.5, exposures=1000, conversions=130),
        ]
    )
    data = _assert_clean(analysis)
    assert json.loads(json.dumps(data)) == data


@pytest.mark.parametrize(
    ("exposures", "conversions"),
    [pytest.param(10, 11, id="more-conversions-than-exposures"), pytest.param(-1, 0, id="neg")],
)
def test_impossible_inputs_are_rejected(exposures: int, conversions: int) -> None:
    """Aggregates that cannot come from real data raise ValueError."""
    with pytest.raises(ValueError):
        VariantInput(name="x", weight=0.5, exposures=exposures, conversions=conversions)


def test_analyse_needs_a_control() -> None:
    """An empty variant list is a caller error."""
    with pytest.raises(ValueError):
        analyse([])
