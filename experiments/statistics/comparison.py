"""One variant against the control, from per-arm sufficient statistics, as GrowthBook computes it.

Each arm is summarised by a `Sample` (count, sum, sum of squares and, for CUPED, the same sums of a
pre-exposure covariate and the sum of products). `compare` returns the uplift with its interval and
p-value. The arithmetic follows GrowthBook's published engine (gbstats 0.8.0: `TwoSidedTTest`,
`SequentialTwoSidedTTest`, `RegressionAdjustedStatistic` with `compute_theta`) formula by formula,
and is checked against it on the cases in `tests/conformance/data/gbstats-cases.json.gz`:

- variance of an arm: p(1 - p) for a conversion (0/1) metric, the sample variance with n - 1 for a
  value metric;
- CUPED: the metric minus theta times the covariate, theta = cov / var of the covariate over both
  arms pooled; without covariate variance in the pooled data the plain analysis is used;
- absolute uplift: difference of means, variance var_b / n_b + var_a / n_a;
- relative uplift: difference over the control's (unadjusted) mean, variance by the delta method;
- fixed horizon: Welch t-test (Welch-Satterthwaite degrees of freedom), two-sided;
- sequential: the asymptotic confidence sequence of Waudby-Smith et al. (2023), eq. 9, with
  rho from the tuning parameter (eq. 161), and its always-valid p-value (eq. 155).

Where GrowthBook returns its uninformative default (control mean 0, an arm with zero variance, an
arm of fewer than 2 units), every field of the `Estimate` is None; no field is ever NaN or infinite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

__all__ = ["MIN_EVENTS_PER_ARM", "Estimate", "Sample", "compare"]

# Units with the event (conversions; buyers for a revenue metric) each arm should have before a
# verdict is read. Both tests rest on a normal approximation, and the relative uplift on the delta
# method, which are poor with a handful of events: in the A/A simulation (docs/benchmarks.md) the
# sequential relative test read daily from the first visitor flags 5.0 % (conversion) and 7.5 %
# (revenue) of A/A experiments, and 2.3 % and 3.7 % when read only once every arm has 50.
MIN_EVENTS_PER_ARM = 50


@dataclass(frozen=True)
class Sample:
    """Sufficient statistics of one arm: units, sum and sum of squares of the metric per unit.

    For CUPED, also the sums of the covariate (the unit's value of the metric before exposure) and
    the sum of per-unit products metric x covariate. For a conversion (0/1) metric the sums of
    squares are not needed (they equal the sums).
    """

    n: int
    sum: float
    sum_squares: float | None = None
    pre_sum: float | None = None
    pre_sum_squares: float | None = None
    post_pre_sum_products: float | None = None

    def __post_init__(self) -> None:
        """Reject impossible aggregates (negative or fractional counts, NaN, infinity)."""
        n = float(self.n)
        if not math.isfinite(n) or n < 0 or not n.is_integer():
            raise ValueError(f"n must be a non-negative whole number, got {self.n!r}")
        object.__setattr__(self, "n", int(n))
        numbers = (
            self.sum,
            self.sum_squares,
            self.pre_sum,
            self.pre_sum_squares,
            self.post_pre_sum_products,
        )
        if not all(x is None or math.isfinite(float(x)) for x in numbers):
            raise ValueError("sums must be finite numbers")


@dataclass(frozen=True)
class Estimate:
    """Uplift of the variant over the control with its interval and two-sided p-value."""

    point: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None


UNDEFINED = Estimate(point=None, ci_low=None, ci_high=None, p_value=None)


@dataclass(frozen=True)
class _Arm:
    """What the tests need from an arm: size, (adjusted) mean, variance, unadjusted mean."""

    n: int
    mean: float
    variance: float
    unadjusted_mean: float


def _finite(x: float) -> float | None:
    """Return x as a plain float, or None when it is NaN or infinite."""
    value = float(x)
    return value if math.isfinite(value) else None


def _mean(n: int, total: float) -> float:
    """Mean per unit; 0 without units, as gbstats' statistics define it."""
    return total / n if n else 0.0


def _variance(n: int, total: float, squares: float | None, binary: bool) -> float:
    """Per-unit variance: p(1 - p) for a proportion, the n - 1 sample variance for a mean."""
    if binary:
        mean = _mean(n, total)
        return mean * (1 - mean)
    if n <= 1:
        return 0.0
    return (squares - total**2 / n) / (n - 1)


def _covariance(n: int, post_sum: float, pre_sum: float, products: float) -> float:
    """Sample covariance (n - 1) of the metric and its covariate."""
    if n <= 1:
        return 0.0
    return (products - post_sum * pre_sum / n) / (n - 1)


def _plain_arm(sample: Sample, binary: bool) -> _Arm:
    """The arm without covariate adjustment."""
    mean = _mean(sample.n, sample.sum)
    variance = _variance(sample.n, sample.sum, sample.sum_squares, binary)
    return _Arm(n=sample.n, mean=mean, variance=variance, unadjusted_mean=mean)


def _theta(a: Sample, b: Sample, binary: bool) -> float:
    """CUPED coefficient over both arms pooled (gbstats `compute_theta`); 0 when undefined."""
    n = a.n + b.n
    post_sum, pre_sum = a.sum + b.sum, a.pre_sum + b.pre_sum
    squares = pre_squares = None
    if not binary:
        squares = a.sum_squares + b.sum_squares
        pre_squares = a.pre_sum_squares + b.pre_sum_squares
    pre_variance = _variance(n, pre_sum, pre_squares, binary)
    if pre_variance == 0 or _variance(n, post_sum, squares, binary) == 0:
        return 0.0
    products = a.post_pre_sum_products + b.post_pre_sum_products
    return _covariance(n, post_sum, pre_sum, products) / pre_variance


def _adjusted_arm(sample: Sample, theta: float, binary: bool) -> _Arm:
    """The arm's metric minus theta times its covariate (regression adjustment)."""
    post_mean = _mean(sample.n, sample.sum)
    pre_mean = _mean(sample.n, sample.pre_sum)
    if sample.n <= 1:
        variance = 0.0
    else:
        post_var = _variance(sample.n, sample.sum, sample.sum_squares, binary)
        pre_var = _variance(sample.n, sample.pre_sum, sample.pre_sum_squares, binary)
        cov = _covariance(sample.n, sample.sum, sample.pre_sum, sample.post_pre_sum_products)
        variance = post_var + theta**2 * pre_var - 2 * theta * cov
    return _Arm(
        n=sample.n,
        mean=post_mean - theta * pre_mean,
        variance=variance,
        unadjusted_mean=post_mean,
    )


def _arms(control: Sample, variant: Sample, cuped: bool, binary: bool) -> tuple[_Arm, _Arm]:
    """Build both arms, regression-adjusted when CUPED applies (theta != 0)."""
    if cuped:
        theta = _theta(control, variant, binary)
        if theta != 0:
            return _adjusted_arm(control, theta, binary), _adjusted_arm(variant, theta, binary)
    return _plain_arm(control, binary), _plain_arm(variant, binary)


def _difference(a: _Arm, b: _Arm, relative: bool) -> tuple[float, float]:
    """Point estimate of the uplift and its variance (delta method when relative)."""
    if relative:
        point = (b.mean - a.mean) / a.unadjusted_mean
        variance = b.variance / (a.unadjusted_mean**2 * b.n) + a.variance * b.unadjusted_mean**2 / (
            a.unadjusted_mean**4 * a.n
        )
        return point, variance
    return b.mean - a.mean, b.variance / b.n + a.variance / a.n


def _welch_dof(a: _Arm, b: _Arm) -> float:
    """Welch-Satterthwaite degrees of freedom of the difference of two means."""
    numerator = (b.variance / b.n + a.variance / a.n) ** 2
    denominator = b.variance**2 / (b.n**2 * (b.n - 1)) + a.variance**2 / (a.n**2 * (a.n - 1))
    return numerator / denominator


def _fixed_horizon(point: float, variance: float, dof: float, alpha: float) -> Estimate:
    """Two-sided t interval and p-value, valid when looked at once, at the planned size."""
    se = math.sqrt(variance)
    # Student's t quantile and upper tail (what scipy.stats.t.ppf / .sf compute, without the
    # overhead of the distribution objects)
    width = float(special.stdtrit(dof, 1 - alpha / 2)) * se
    p_value = 2 * float(special.stdtr(dof, -abs(point / se)))
    return _estimate(point, point - width, point + width, min(p_value, 1.0))


def _rho_squared(alpha: float, tuning: float) -> float:
    """Mixture parameter rho^2 of the confidence sequence, tuned for `tuning` units (eq. 161)."""
    return (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning


def _sequential(point: float, variance: float, n: int, alpha: float, tuning: float) -> Estimate:
    """Asymptotic confidence sequence (eq. 9) and always-valid p-value (eq. 155)."""
    rho2 = _rho_squared(alpha, tuning)
    scale = n * rho2 + 1
    s2 = variance * n
    width = math.sqrt(s2) * math.sqrt(
        2 * scale * math.log(math.sqrt(scale) / alpha) / (n * n * rho2)
    )
    # p = 1 / e-value, computed on the log scale so a large statistic cannot overflow
    st2 = point**2 * n / variance
    log_evalue = rho2 * st2 / (2 * scale) - 0.5 * math.log(scale)
    p_value = math.exp(-log_evalue) if log_evalue > 0 else 1.0
    return _estimate(point, point - width, point + width, p_value)


def _estimate(point: float, low: float, high: float, p_value: float) -> Estimate:
    """Package the numbers, any that is not finite becoming None."""
    return Estimate(
        point=_finite(point),
        ci_low=_finite(low),
        ci_high=_finite(high),
        p_value=_finite(p_value),
    )


def _check_inputs(control: Sample, variant: Sample, cuped: bool, binary: bool) -> None:
    """Raise ValueError for samples that do not fit the requested analysis."""
    for sample in (control, variant):
        if binary and not 0 <= sample.sum <= sample.n:
            raise ValueError("a conversion metric needs 0 <= sum <= n")
        if not binary and sample.sum_squares is None:
            raise ValueError("a value metric needs sum_squares")
        if not cuped:
            continue
        needed = [sample.pre_sum, sample.post_pre_sum_products]
        needed += [] if binary else [sample.pre_sum_squares]
        if any(x is None for x in needed):
            raise ValueError("CUPED needs pre_sum, post_pre_sum_products (and pre_sum_squares)")
        if binary and not 0 <= sample.pre_sum <= sample.n:
            raise ValueError("a conversion covariate needs 0 <= pre_sum <= n")


def _check_settings(alpha: float, sequential_tuning: float) -> None:
    """Raise ValueError for a significance level or tuning parameter out of range."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not (math.isfinite(sequential_tuning) and sequential_tuning > 0):
        raise ValueError(f"sequential_tuning must be positive, got {sequential_tuning!r}")


def compare(
    control: Sample,
    variant: Sample,
    *,
    relative: bool = True,
    sequential: bool = False,
    alpha: float = 0.05,
    sequential_tuning: float = 5000,
    cuped: bool = False,
    binary: bool = True,
) -> Estimate:
    """Uplift of `variant` over `control` with a 1 - alpha interval and a two-sided p-value.

    relative: uplift as a fraction of the control's mean (else the difference of means);
    sequential: always-valid interval and p-value (may be looked at any time) instead of the
    fixed-horizon t-test (valid once, at a planned sample size); sequential_tuning: the total
    sample size (both arms) at which the sequential interval is tightest; cuped: adjust for the
    pre-exposure covariate; binary: a conversion (0/1) metric rather than a value per unit.
    """
    _check_settings(alpha, sequential_tuning)
    _check_inputs(control, variant, cuped, binary)
    try:
        return _compare(
            control, variant, relative, sequential, alpha, sequential_tuning, cuped, binary
        )
    except (OverflowError, ZeroDivisionError):  # sums beyond the range of a float
        return UNDEFINED


def _compare(
    control: Sample,
    variant: Sample,
    relative: bool,
    sequential: bool,
    alpha: float,
    tuning: float,
    cuped: bool,
    binary: bool,
) -> Estimate:
    """`compare` on validated input."""
    a, b = _arms(control, variant, cuped, binary)
    if a.mean == 0 or a.unadjusted_mean == 0 or a.variance <= 0 or b.variance <= 0:
        return UNDEFINED
    if a.n < 2 or b.n < 2:
        return UNDEFINED
    point, variance = _difference(a, b, relative)
    if not (math.isfinite(point) and math.isfinite(variance) and variance > 0):
        return UNDEFINED
    if sequential:
        return _sequential(point, variance, a.n + b.n, alpha, tuning)
    return _fixed_horizon(point, variance, _welch_dof(a, b), alpha)
