"""One-sided tests for harm on a guardrail metric (unsubscribes, removals from the cart, ...).

A guardrail is never a reason to ship a variant; it is watched so that a variant which hurts it
is caught. The question is one-sided — "does the variant move the metric in the harmful
direction?" — so the test spends its whole error rate on that side:

- sequential (always valid, for a metric watched continuously): the two-sided confidence sequence
  of `compare` at level 1 - 2 alpha, of which only the bound on the side of "no harm" is used;
  harm when that bound excludes 0. Its always-valid two-sided p-value, halved when the estimate
  points to harm (1 otherwise), is the one-sided p-value: p < alpha exactly when the bound
  excludes 0.
- fixed horizon (read once): the one-sided Welch t-test, p = P(T >= t) with t the uplift over its
  standard error in the harmful direction; the bound is the uplift minus t_(1-alpha) standard
  errors. Harm when p < alpha, which is when the bound excludes 0.

The arithmetic is `compare`'s (GrowthBook's), so CUPED and the relative delta method are shared
with the primary goals. One addition: where `compare` gives no answer because one arm has no
variation (no conversions at all, say) while the other has some, the absolute difference is still
tested with the other arm's variance — a variant that stops every purchase is the harm a guardrail
exists for. See docs/statistics.md, "Guardrails".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from experiments.statistics.comparison import (
    Estimate,
    Sample,
    _fixed_horizon,
    _plain_arm,
    _sequential,
    _welch_dof,
    compare,
)

__all__ = ["DIRECTIONS", "Harm", "harm"]

DIRECTIONS = ("increase", "decrease")


@dataclass(frozen=True)
class Harm:
    """The uplift of the variant over the control and the one-sided test for harm.

    point: the uplift (relative or absolute, as asked), signed as usual (+ is an increase);
    bound: its one-sided 1 - alpha confidence bound on the side of no harm (a lower bound when an
    increase harms, an upper bound when a decrease does); p_value: one-sided, for harm;
    harmful: the bound excludes 0 (p_value < alpha). No answer: all None and harmful False.
    """

    point: float | None
    bound: float | None
    p_value: float | None
    harmful: bool


NO_ANSWER = Harm(point=None, bound=None, p_value=None, harmful=False)


def harm(
    control: Sample,
    variant: Sample,
    *,
    direction: str,
    relative: bool = False,
    sequential: bool = True,
    alpha: float = 0.05,
    sequential_tuning: float = 5000,
    cuped: bool = False,
    binary: bool = True,
) -> Harm:
    """One-sided test, at level alpha (0 < alpha < 0.5), that `variant` moves the metric in the
    harmful `direction` ("increase" or "decrease") compared with `control`. The other arguments
    are `compare`'s; the defaults are what guardrails use (absolute difference, sequential)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be between 0 and 0.5, got {alpha!r}")
    # each bound of a two-sided 1 - 2 alpha interval is a one-sided 1 - alpha bound
    options = {"sequential": sequential, "alpha": 2 * alpha, "sequential_tuning": sequential_tuning}
    estimate = compare(control, variant, relative=relative, cuped=cuped, binary=binary, **options)
    if estimate.p_value is None and not relative:
        estimate = _one_arm_varies(control, variant, binary=binary, **options)
    if estimate.point is None or estimate.p_value is None:
        return NO_ANSWER
    return _one_sided(estimate, direction, sequential)


def _one_sided(estimate: Estimate, direction: str, sequential: bool) -> Harm:
    """The harmful side of a two-sided 1 - 2 alpha estimate."""
    sign = 1 if direction == "increase" else -1
    bound = estimate.ci_low if sign > 0 else estimate.ci_high
    towards_harm = sign * estimate.point > 0
    if towards_harm:
        p_value = estimate.p_value / 2
    else:
        # the fixed-horizon t-test's other tail; an always-valid p-value has none to offer
        p_value = 1.0 if sequential else 1 - estimate.p_value / 2
    return Harm(
        point=estimate.point,
        bound=bound,
        p_value=min(p_value, 1.0),
        harmful=bound is not None and sign * bound > 0,
    )


def _one_arm_varies(
    control: Sample,
    variant: Sample,
    *,
    binary: bool,
    sequential: bool,
    alpha: float,
    sequential_tuning: float,
) -> Estimate:
    """The absolute difference when exactly one arm has no variation (all or no conversions):
    its variance is the other arm's alone. No answer in every other case `compare` refuses."""
    if control.n < 2 or variant.n < 2:
        return Estimate(None, None, None, None)
    a, b = _plain_arm(control, binary), _plain_arm(variant, binary)
    variance = b.variance / b.n + a.variance / a.n
    if (a.variance > 0) == (b.variance > 0) or not (math.isfinite(variance) and variance > 0):
        return Estimate(None, None, None, None)
    point = b.mean - a.mean
    if sequential:
        return _sequential(point, variance, a.n + b.n, alpha, sequential_tuning)
    return _fixed_horizon(point, variance, _welch_dof(a, b), alpha)
