"""Planned sample size of a fixed-horizon conversion test (power calculation).

For a baseline conversion rate p1 and a minimum detectable effect given relative to it (p2 =
p1 (1 + mde)), the test of `compare` (unpooled variance, two-sided, level alpha) rejects with
probability, with n units per arm,

    power(n) = Phi(d sqrt(n) - z) + Phi(-d sqrt(n) - z),   d = |p2 - p1| / sqrt(p1 q1 + p2 q2),

where z = Phi^-1(1 - alpha / 2) and q = 1 - p (the normal approximation; the second term is the
chance of a significant result in the wrong direction, negligible in practice). The planned size is
the smallest whole n with power(n) >= the requested power; without the second term it is the
textbook closed form n = (z + z_power)^2 (p1 q1 + p2 q2) / (p2 - p1)^2 (Chow, Shao & Wang,
"Sample Size Calculations in Clinical Research", 2nd ed., section 4.2). It is statsmodels'
`NormalIndPower` with effect size (p2 - p1) / sqrt((p1 q1 + p2 q2) / 2), checked against it on
the cases in `tests/conformance/data/statsmodels-cases.json.gz`.

The minimum guard: a plan is refused below `minimum_sample_size_per_arm`, the size under which the
normal approximation behind the t-test is not trusted: 30 units per arm, and at least 10
expected conversions and 10 expected non-conversions per arm at the baseline rate
(n >= 10 / min(p, 1 - p)).
"""

from __future__ import annotations

import math

from scipy import optimize, special

__all__ = [
    "MIN_SAMPLE_PER_ARM",
    "MIN_EXPECTED_EVENTS",
    "achieved_power",
    "exact_sample_size",
    "minimum_detectable_effect",
    "minimum_sample_size_per_arm",
    "sample_size_per_arm",
]

MIN_SAMPLE_PER_ARM = 30  # the same floor as MIN_EXPOSURES in experiments/stats.py
MIN_EXPECTED_EVENTS = 10


def _check_rate(baseline_rate: float) -> None:
    """Raise ValueError unless the baseline rate is strictly between 0 and 1."""
    if not 0 < baseline_rate < 1:
        raise ValueError(f"baseline_rate must be between 0 and 1, got {baseline_rate!r}")


def _check_levels(alpha: float, power: float | None = None) -> None:
    """Raise ValueError for a significance level or power that cannot be planned for."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    if power is not None and not alpha < power < 1:
        raise ValueError(f"power must be between alpha and 1, got {power!r}")


def _standardized_effect(baseline_rate: float, relative_mde: float) -> float:
    """d = |p2 - p1| / sqrt(p1 q1 + p2 q2), the effect per unit of one arm's standard error."""
    _check_rate(baseline_rate)
    p1 = baseline_rate
    p2 = p1 * (1 + relative_mde)
    if relative_mde == 0 or not 0 < p2 < 1:
        raise ValueError("the effect must be non-zero and keep the rate between 0 and 1")
    return abs(p2 - p1) / math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))


def _z(upper_tail: float) -> float:
    """Standard normal quantile with the given upper-tail probability (scipy's norm.isf)."""
    return -float(special.ndtri(upper_tail))


def _power(d: float, n: float, alpha: float) -> float:
    """Two-sided power of the normal test with standardized effect d and n units per arm."""
    z = _z(alpha / 2)
    shift = d * math.sqrt(n)
    # Phi(shift - z) + Phi(-shift - z), as scipy's norm.sf(z - shift) + norm.cdf(-z - shift)
    return float(special.ndtr(shift - z) + special.ndtr(-z - shift))


def achieved_power(
    n_per_arm: float, baseline_rate: float, relative_mde: float, *, alpha: float = 0.05
) -> float:
    """Chance that a fixed-horizon test with n_per_arm units per arm detects the effect."""
    _check_levels(alpha)
    if not n_per_arm > 0:
        raise ValueError("n_per_arm must be positive")
    return _power(_standardized_effect(baseline_rate, relative_mde), n_per_arm, alpha)


def minimum_sample_size_per_arm(baseline_rate: float | None = None) -> int:
    """Smallest plan accepted: 30 per arm and >= 10 expected conversions and non-conversions."""
    if baseline_rate is None:
        return MIN_SAMPLE_PER_ARM
    _check_rate(baseline_rate)
    rarer = min(baseline_rate, 1 - baseline_rate)
    # the tiny tolerance keeps e.g. 10 / 0.1 = 100.00000000000001 from rounding up to 101
    return max(MIN_SAMPLE_PER_ARM, math.ceil(MIN_EXPECTED_EVENTS / rarer - 1e-9))


def exact_sample_size(
    baseline_rate: float, relative_mde: float, *, power: float = 0.8, alpha: float = 0.05
) -> float:
    """Units per arm (not rounded) at which the power is exactly the requested power."""
    _check_levels(alpha, power)
    d = _standardized_effect(baseline_rate, relative_mde)
    closed_form = ((_z(alpha / 2) + _z(1 - power)) / d) ** 2
    # the closed form ignores the wrong-direction term, so it is an upper bound of the root
    if _power(d, closed_form, alpha) - power <= 0:
        return float(closed_form)
    return float(
        optimize.brentq(
            lambda n: _power(d, n, alpha) - power,
            1e-12 * closed_form,
            closed_form,
            xtol=1e-12 * closed_form,
            rtol=1e-14,
        )
    )


def sample_size_per_arm(
    baseline_rate: float, relative_mde: float, *, power: float = 0.8, alpha: float = 0.05
) -> int:
    """Planned units per arm to detect the relative effect with the given power, two-sided.

    The smallest whole number with at least the requested power, never below
    `minimum_sample_size_per_arm(baseline_rate)`.
    """
    exact = exact_sample_size(baseline_rate, relative_mde, power=power, alpha=alpha)
    planned = math.ceil(exact - 1e-9 * exact)
    return max(planned, minimum_sample_size_per_arm(baseline_rate))


def minimum_detectable_effect(
    n_per_arm: float,
    baseline_rate: float,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    direction: int = 1,
) -> float | None:
    """Smallest relative effect (an increase, or a decrease with direction=-1) detectable with
    the given power at n_per_arm; None when no effect keeping the rate in (0, 1) is enough."""
    _check_levels(alpha, power)
    _check_rate(baseline_rate)
    if direction not in (1, -1) or not n_per_arm > 0:
        raise ValueError("direction must be 1 or -1 and n_per_arm positive")
    largest = (1 / baseline_rate - 1) if direction == 1 else 1.0
    largest *= 1 - 1e-12

    def shortfall(mde: float) -> float:
        return achieved_power(n_per_arm, baseline_rate, direction * mde, alpha=alpha) - power

    if shortfall(largest) < 0:
        return None
    root = optimize.brentq(shortfall, 1e-12, largest, xtol=1e-14, rtol=1e-12)
    return direction * float(root)
