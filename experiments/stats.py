"""Experiment result statistics computed from plain per-variant aggregates.

The caller aggregates exposures, conversions and revenue in SQL; everything here is a pure function
of those numbers (numpy/scipy, no Django), so results are reproducible and easy to test. The first
variant is the control. Methods:

- absolute uplift: difference of conversion rates with a Wald (unpooled normal) 95 % interval;
- relative uplift: rate ratio minus one, with a 95 % interval from the delta method on the log of
  the rate ratio (Katz log interval), ``exp(log(r) +/- z * se) - 1``;
- p-value: two-sided two-proportion z-test with pooled standard error (identical to a 2x2
  chi-square test without continuity correction);
- chance to beat control: P(variant rate > control rate) under independent Beta(1 + conversions,
  1 + non-conversions) posteriors, by deterministic Gauss-Legendre quadrature;
- sample ratio mismatch: chi-square goodness of fit of exposures against the configured weights.

No result ever contains NaN or infinity: anything undefined (no exposures, no conversions on either
side, a zero standard error, ...) is None, and every dataclass survives ``json.dumps(asdict(...),
allow_nan=False)``.

The comparison engine of issue 16 (sufficient statistics, fixed-horizon and sequential tests,
CUPED, multiple-comparison corrections, the power calculator) lives in `experiments.statistics`
and is re-exported here: `Sample`, `Estimate`, `compare`, `adjust_p_values`,
`sample_size_per_arm`, `minimum_sample_size_per_arm`, `harm` (guardrails), ... (see
docs/statistics.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from experiments.statistics import (
    MIN_EVENTS_PER_ARM,
    Estimate,
    Harm,
    Sample,
    achieved_power,
    adjust_p_values,
    compare,
    exact_sample_size,
    harm,
    minimum_detectable_effect,
    minimum_sample_size_per_arm,
    sample_size_per_arm,
)

__all__ = [
    "CONFIDENCE",
    "MIN_EVENTS_PER_ARM",
    "MIN_EXPOSURES",
    "SRM_P_THRESHOLD",
    "Estimate",
    "ExperimentAnalysis",
    "Harm",
    "Sample",
    "SrmResult",
    "VariantInput",
    "VariantResult",
    "achieved_power",
    "adjust_p_values",
    "analyse",
    "compare",
    "exact_sample_size",
    "harm",
    "minimum_detectable_effect",
    "minimum_sample_size_per_arm",
    "sample_size_per_arm",
    "srm_check",
]

MIN_EXPOSURES = 30
SRM_P_THRESHOLD = 0.001
CONFIDENCE = 0.95
NOT_ENOUGH_DATA = "not enough data"

_Z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
_nodes, _weights = np.polynomial.legendre.leggauss(400)
_QUANTILES = (_nodes + 1) / 2  # Gauss-Legendre nodes mapped from [-1, 1] to [0, 1]
_QUANTILE_WEIGHTS = _weights / 2


@dataclass(frozen=True)
class VariantInput:
    """Aggregates for one variant, as queried from the exposure and conversion tables."""

    name: str
    weight: float
    exposures: int
    conversions: int
    value_sum: float = 0.0
    value_sum_squares: float = 0.0

    def __post_init__(self) -> None:
        """Reject impossible aggregates early instead of producing meaningless statistics."""
        if self.exposures < 0 or self.conversions < 0:
            raise ValueError(f"{self.name}: exposures and conversions must be non-negative")
        if self.conversions > self.exposures:
            raise ValueError(f"{self.name}: more converting visitors than exposed visitors")
        numbers = (self.weight, self.value_sum, self.value_sum_squares)
        if not all(math.isfinite(x) for x in numbers) or self.weight < 0:
            raise ValueError(f"{self.name}: weight and value sums must be finite, weight >= 0")


@dataclass(frozen=True)
class VariantResult:
    """Per-variant summary; comparison fields are None on the control row and when undefined."""

    name: str
    is_control: bool
    exposures: int
    conversions: int
    rate: float | None
    abs_uplift: float | None
    abs_ci_low: float | None
    abs_ci_high: float | None
    rel_uplift: float | None
    rel_ci_low: float | None
    rel_ci_high: float | None
    p_value: float | None
    chance_to_beat_control: float | None
    revenue_per_visitor: float | None
    enough_data: bool
    note: str


@dataclass(frozen=True)
class SrmResult:
    """Sample ratio mismatch test: a mismatch means the traffic split itself is suspect."""

    p_value: float | None
    mismatch: bool


@dataclass(frozen=True)
class ExperimentAnalysis:
    """Everything the results page and API show for one experiment and metric."""

    variants: list[VariantResult]
    srm: SrmResult


def _finite(x: float | None) -> float | None:
    """Return x as a plain float, or None when it is missing, NaN or infinite."""
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def _rate(arm: VariantInput) -> float | None:
    """Return the conversion rate, or None without exposures."""
    return arm.conversions / arm.exposures if arm.exposures else None


def _abs_uplift(control: VariantInput, variant: VariantInput) -> tuple[float | None, ...]:
    """Return the rate difference and its Wald (unpooled) confidence interval."""
    p_c, p_v = _rate(control), _rate(variant)
    if p_c is None or p_v is None:
        return None, None, None
    diff = p_v - p_c
    se = math.sqrt(p_c * (1 - p_c) / control.exposures + p_v * (1 - p_v) / variant.exposures)
    if se == 0:
        return _finite(diff), None, None
    return _finite(diff), _finite(diff - _Z * se), _finite(diff + _Z * se)


def _rel_uplift(control: VariantInput, variant: VariantInput) -> tuple[float | None, ...]:
    """Return the relative uplift and its delta-method interval on the log rate ratio."""
    p_c, p_v = _rate(control), _rate(variant)
    if p_c is None or p_v is None or p_c == 0:
        return None, None, None
    rel = p_v / p_c - 1
    if variant.conversions == 0:
        return _finite(rel), None, None
    se = math.sqrt((1 - p_v) / variant.conversions + (1 - p_c) / control.conversions)
    if se == 0:
        return _finite(rel), None, None
    log_ratio = math.log(p_v / p_c)
    low = math.exp(log_ratio - _Z * se) - 1
    high = math.exp(log_ratio + _Z * se) - 1
    return _finite(rel), _finite(low), _finite(high)


def _p_value(control: VariantInput, variant: VariantInput) -> float | None:
    """Return the two-sided two-proportion z-test p-value (pooled standard error)."""
    p_c, p_v = _rate(control), _rate(variant)
    if p_c is None or p_v is None:
        return None
    pooled = (control.conversions + variant.conversions) / (control.exposures + variant.exposures)
    se = math.sqrt(pooled * (1 - pooled) * (1 / control.exposures + 1 / variant.exposures))
    if se == 0:
        return None
    z = (p_v - p_c) / se
    return _finite(2 * stats.norm.sf(abs(z)))


def _posterior(arm: VariantInput) -> tuple[int, int]:
    """Return the Beta posterior parameters of an arm's rate under a uniform Beta(1, 1) prior."""
    return 1 + arm.conversions, 1 + arm.exposures - arm.conversions


def _chance_to_beat(control: VariantInput, variant: VariantInput) -> float | None:
    """Return P(variant rate > control rate), deterministic to about 1e-6.

    P(B > A) = integral over u in [0, 1] of F_A(Q_B(u)). Integrating over the quantiles of the
    narrower posterior keeps the integrand smooth, so fixed Gauss-Legendre nodes suffice.
    """
    if not control.exposures or not variant.exposures:
        return None
    if control.conversions == 0 and variant.conversions == 0:
        return None
    a, b = stats.beta(*_posterior(control)), stats.beta(*_posterior(variant))
    if b.var() <= a.var():
        prob = float(_QUANTILE_WEIGHTS @ a.cdf(b.ppf(_QUANTILES)))
    else:
        prob = 1.0 - float(_QUANTILE_WEIGHTS @ b.cdf(a.ppf(_QUANTILES)))
    value = _finite(prob)
    return None if value is None else min(max(value, 0.0), 1.0)


def _exposure_problems(arms: tuple[VariantInput, ...]) -> list[str]:
    """List exposure shortfalls that make the arms too thin to read a result from."""
    if any(arm.exposures == 0 for arm in arms):
        return ["no exposures"]
    if any(arm.exposures < MIN_EXPOSURES for arm in arms):
        return [f"fewer than {MIN_EXPOSURES} exposures per arm"]
    return []


def _comparison_problems(control: VariantInput, variant: VariantInput) -> list[str]:
    """List the reasons a variant-vs-control comparison cannot be read yet."""
    problems = _exposure_problems((control, variant))
    if control.conversions == 0 and variant.conversions == 0:
        problems.append("no conversions in either arm")
    return problems


def _note(problems: list[str]) -> str:
    """Render data problems as the row's note ('' when the data is sufficient)."""
    return f"{NOT_ENOUGH_DATA}: {'; '.join(problems)}" if problems else ""


def _revenue_per_visitor(arm: VariantInput) -> float | None:
    """Return mean revenue per exposed visitor, or None without exposures."""
    return _finite(arm.value_sum / arm.exposures) if arm.exposures else None


def _control_result(control: VariantInput) -> VariantResult:
    """Summarise the control row, which has no comparison fields."""
    problems = _exposure_problems((control,))
    return VariantResult(
        name=control.name,
        is_control=True,
        exposures=control.exposures,
        conversions=control.conversions,
        rate=_finite(_rate(control)),
        abs_uplift=None,
        abs_ci_low=None,
        abs_ci_high=None,
        rel_uplift=None,
        rel_ci_low=None,
        rel_ci_high=None,
        p_value=None,
        chance_to_beat_control=None,
        revenue_per_visitor=_revenue_per_visitor(control),
        enough_data=not problems,
        note=_note(problems),
    )


def _variant_result(control: VariantInput, variant: VariantInput) -> VariantResult:
    """Summarise one treatment arm against the control."""
    abs_uplift, abs_low, abs_high = _abs_uplift(control, variant)
    rel_uplift, rel_low, rel_high = _rel_uplift(control, variant)
    problems = _comparison_problems(control, variant)
    return VariantResult(
        name=variant.name,
        is_control=False,
        exposures=variant.exposures,
        conversions=variant.conversions,
        rate=_finite(_rate(variant)),
        abs_uplift=abs_uplift,
        abs_ci_low=abs_low,
        abs_ci_high=abs_high,
        rel_uplift=rel_uplift,
        rel_ci_low=rel_low,
        rel_ci_high=rel_high,
        p_value=_p_value(control, variant),
        chance_to_beat_control=_chance_to_beat(control, variant),
        revenue_per_visitor=_revenue_per_visitor(variant),
        enough_data=not problems,
        note=_note(problems),
    )


def _weights_usable(weights: list[float]) -> bool:
    """Tell whether weights can define an expected split (finite, non-negative, not all zero)."""
    return all(math.isfinite(w) and w >= 0 for w in weights) and sum(weights) > 0


def srm_check(observed: list[int], weights: list[float]) -> SrmResult:
    """Test observed exposure counts against the configured split (chi-square goodness of fit)."""
    if len(observed) != len(weights):
        raise ValueError("observed and weights must have the same length")
    if any(n < 0 for n in observed):
        raise ValueError("observed counts must be non-negative")
    if not _weights_usable(weights):
        raise ValueError("weights must be finite, non-negative and not all zero")
    total = sum(observed)
    if total == 0:
        return SrmResult(p_value=None, mismatch=False)
    weight_sum = sum(weights)
    pairs = [(n, total * w / weight_sum) for n, w in zip(observed, weights, strict=True)]
    if any(n > 0 and expected == 0 for n, expected in pairs):
        return SrmResult(p_value=0.0, mismatch=True)  # traffic in an arm configured to get none
    pairs = [(n, expected) for n, expected in pairs if expected > 0]
    if len(pairs) < 2:
        return SrmResult(p_value=None, mismatch=False)
    counts, expected = zip(*pairs, strict=True)
    p_value = _finite(stats.chisquare(counts, f_exp=expected).pvalue)
    return SrmResult(p_value=p_value, mismatch=p_value is not None and p_value < SRM_P_THRESHOLD)


def analyse(variants: list[VariantInput]) -> ExperimentAnalysis:
    """Compare every variant with the first (the control) and check the traffic split."""
    if not variants:
        raise ValueError("analyse() needs at least a control variant")
    control = variants[0]
    results = [_control_result(control)]
    results.extend(_variant_result(control, variant) for variant in variants[1:])
    weights = [v.weight for v in variants]
    if _weights_usable(weights):
        srm = srm_check([v.exposures for v in variants], weights)
    else:  # e.g. every weight zero: no expected split to test against
        srm = SrmResult(p_value=None, mismatch=False)
    return ExperimentAnalysis(variants=results, srm=srm)
