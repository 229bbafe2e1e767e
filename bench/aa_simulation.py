"""A/A simulation: false positives of daily looks, fixed-horizon vs sequential, and CUPED's gain.

    .venv/bin/python bench/aa_simulation.py [--experiments 2000] [--days 30] [--seed 16]
                                            [--write docs/benchmarks.md]

Pure numpy/scipy and experiments.statistics (no database, no Django). Seeded: the same command
gives the same figures on any machine.

1. Peeking. `--experiments` A/A experiments (both arms identical) run `--days` days; every day a
   marketer reads the report. Demo-like traffic: Poisson(250) new visitors per arm per day, 4 %
   of them buy, order values log-normal around 4,000 yen. An experiment is a false positive if
   p < 0.05 on any day. Compared: the fixed-horizon t-test read daily, the same read once on the
   last day, and the sequential test read daily (default tuning 5,000), for the conversion rate
   and revenue per visitor, relative and absolute uplift; and the same daily reads counted only
   from the day every arm has MIN_EVENTS_PER_ARM buyers.
2. CUPED. The same number of A/A experiments of 2 x 7,500 members whose purchases before
   exposure (a 14-day window) and during the test (30 days) come from the same per-member buying
   rate and basket size. Measured: the variance of the uplift estimates across experiments
   without and with CUPED, the reduction against the theory (rho^2, the squared correlation of
   metric and covariate), the width of the intervals, and CUPED's own false-positive rate.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.report import machine_description, write_section  # noqa: E402
from experiments.statistics import MIN_EVENTS_PER_ARM, Sample, compare  # noqa: E402

ALPHA = 0.05
VISITORS_PER_DAY = 250
CONVERSION_RATE = 0.04
ORDER_MEDIAN_YEN = 4000.0
ORDER_SIGMA = 0.6
MEMBERS_PER_ARM = 7500
REGULAR_SHARE = 0.4
GATES = (0, 10, 30, 50, 100)  # fewest buyers per arm before a day is read (sensitivity table)
CHUNK = 100  # experiments per batch of per-member draws in the CUPED part


# ------------------------------------------------------------------------------ peeking


@dataclass
class DailySums:
    """Cumulative per-arm sums after each day: arrays of shape (experiments, days, 2)."""

    n: np.ndarray
    conversions: np.ndarray
    revenue: np.ndarray
    revenue_squares: np.ndarray


def simulate_days(rng: np.random.Generator, experiments: int, days: int) -> DailySums:
    """Daily traffic and purchases of A/A experiments, one purchase at most per visitor."""
    shape = (experiments, days, 2)
    n = rng.poisson(VISITORS_PER_DAY, shape)
    buyers = rng.binomial(n, CONVERSION_RATE)
    amounts = rng.lognormal(np.log(ORDER_MEDIAN_YEN), ORDER_SIGMA, int(buyers.sum()))
    cell = np.repeat(np.arange(buyers.size), buyers.ravel())
    revenue = np.bincount(cell, weights=amounts, minlength=buyers.size).reshape(shape)
    squares = np.bincount(cell, weights=amounts**2, minlength=buyers.size).reshape(shape)
    return DailySums(
        n=n.cumsum(axis=1),
        conversions=buyers.cumsum(axis=1),
        revenue=revenue.cumsum(axis=1),
        revenue_squares=squares.cumsum(axis=1),
    )


def _arm(sums: DailySums, experiment: int, day: int, arm: int, binary: bool) -> Sample:
    n = int(sums.n[experiment, day, arm])
    if binary:
        return Sample(n, int(sums.conversions[experiment, day, arm]))
    return Sample(
        n,
        float(sums.revenue[experiment, day, arm]),
        float(sums.revenue_squares[experiment, day, arm]),
    )


def daily_p_values(
    sums: DailySums, *, binary: bool, relative: bool, sequential: bool
) -> np.ndarray:
    """p-value of every experiment on every day, (experiments, days); 1 where undefined."""
    experiments, days, _ = sums.n.shape
    p = np.ones((experiments, days))
    for e in range(experiments):
        for d in range(days):
            control, variant = _arm(sums, e, d, 0, binary), _arm(sums, e, d, 1, binary)
            estimate = compare(
                control, variant, relative=relative, sequential=sequential, binary=binary
            )
            p[e, d] = 1.0 if estimate.p_value is None else estimate.p_value
    return p


@dataclass
class PeekingResult:
    """Share of A/A experiments declared significant, per way of reading the report."""

    metric: str
    uplift: str
    fixed_once: float
    fixed_daily: float
    sequential_daily: float
    fixed_daily_gated: float
    sequential_daily_gated: float
    sequential_by_gate: dict[int, float]


def _any_day(p: np.ndarray, readable: np.ndarray | None = None) -> float:
    """Share of experiments with p < alpha on at least one (readable) day."""
    hits = p < ALPHA
    if readable is not None:
        hits &= readable
    return float(hits.any(axis=1).mean())


def peeking(rng: np.random.Generator, experiments: int, days: int) -> list[PeekingResult]:
    """False-positive rates of the fixed-horizon and sequential tests under daily looks."""
    sums = simulate_days(rng, experiments, days)
    fewest_buyers = sums.conversions.min(axis=2)
    readable = fewest_buyers >= MIN_EVENTS_PER_ARM
    results = []
    for metric, binary in (("conversion rate", True), ("revenue per visitor", False)):
        for uplift, relative in (("relative", True), ("absolute", False)):
            options = {"binary": binary, "relative": relative}
            fixed = daily_p_values(sums, sequential=False, **options)
            sequential = daily_p_values(sums, sequential=True, **options)
            results.append(
                PeekingResult(
                    metric=metric,
                    uplift=uplift,
                    fixed_once=float((fixed[:, -1] < ALPHA).mean()),
                    fixed_daily=_any_day(fixed),
                    sequential_daily=_any_day(sequential),
                    fixed_daily_gated=_any_day(fixed, readable),
                    sequential_daily_gated=_any_day(sequential, readable),
                    sequential_by_gate={
                        gate: _any_day(sequential, fewest_buyers >= gate) for gate in GATES
                    },
                )
            )
    return results


# -------------------------------------------------------------------------------- CUPED


def simulate_members(rng: np.random.Generator, experiments: int, members: int) -> dict:
    """Per-member revenue and purchase flags before (14 days) and during (30 days) a test.

    40 % of members are regulars (pet food re-ordered about monthly: Gamma(2, 0.5) orders per
    30 days), the rest occasional buyers (Gamma(0.5, 0.1)); each member has a usual basket
    (log-normal around 4,000 yen). Returns arrays of shape (experiments, 2 arms, members)."""
    shape = (experiments, 2, members)
    regular = rng.random(shape) < REGULAR_SHARE
    rate = np.where(regular, rng.gamma(2.0, 0.5, shape), rng.gamma(0.5, 0.1, shape))
    basket = rng.lognormal(np.log(ORDER_MEDIAN_YEN), 0.5, shape)
    pre_orders = rng.poisson(rate * 14 / 30)
    post_orders = rng.poisson(rate)
    # k orders of mean 1 and spread 0.32 each add up to Gamma(10 k, 1/10) (0 for k = 0)
    pre = basket * rng.gamma(10 * pre_orders + 1e-300, 0.1) * (pre_orders > 0)
    post = basket * rng.gamma(10 * post_orders + 1e-300, 0.1) * (post_orders > 0)
    return {
        "revenue": (post, pre),
        "purchased": ((post_orders > 0).astype(float), (pre_orders > 0).astype(float)),
    }


def _member_sample(post: np.ndarray, pre: np.ndarray) -> Sample:
    return Sample(
        len(post),
        float(post.sum()),
        float((post**2).sum()),
        pre_sum=float(pre.sum()),
        pre_sum_squares=float((pre**2).sum()),
        post_pre_sum_products=float((post * pre).sum()),
    )


@dataclass
class CupedResult:
    """Spread of the uplift estimates without and with CUPED over many A/A experiments."""

    metric: str
    correlation: float
    variance_reduction: float
    implied_reduction: float
    interval_width_ratio: float
    false_positives_plain: float
    false_positives_cuped: float


def _cuped_chunk(data: dict, name: str, binary: bool) -> tuple[list, list, list]:
    """(plain estimate, CUPED estimate) per experiment of one batch, and the correlations."""
    post, pre = data[name]
    plain, cuped, correlations = [], [], []
    for e in range(post.shape[0]):
        control = _member_sample(post[e, 0], pre[e, 0])
        variant = _member_sample(post[e, 1], pre[e, 1])
        options = {"relative": False, "binary": binary}
        plain.append(compare(control, variant, **options))
        cuped.append(compare(control, variant, cuped=True, **options))
        correlations.append(np.corrcoef(post[e].ravel(), pre[e].ravel())[0, 1])
    return plain, cuped, correlations


def cuped_gain(rng: np.random.Generator, experiments: int) -> list[CupedResult]:
    """Variance reduction of CUPED on demo-like member data, for revenue and conversion."""
    collected = {name: ([], [], []) for name in ("revenue", "purchased")}
    for start in range(0, experiments, CHUNK):
        data = simulate_members(rng, min(CHUNK, experiments - start), MEMBERS_PER_ARM)
        for name in collected:
            for bucket, part in zip(
                collected[name], _cuped_chunk(data, name, name == "purchased"), strict=True
            ):
                bucket.extend(part)
    results = []
    labels = {"revenue": "revenue per member", "purchased": "conversion rate"}
    for name, (plain, cuped, correlations) in collected.items():
        ok = [i for i in range(len(plain)) if plain[i].point is not None and cuped[i].point]
        plain_points = np.array([plain[i].point for i in ok])
        cuped_points = np.array([cuped[i].point for i in ok])
        widths = np.array(
            [
                (cuped[i].ci_high - cuped[i].ci_low) / (plain[i].ci_high - plain[i].ci_low)
                for i in ok
            ]
        )
        results.append(
            CupedResult(
                metric=labels[name],
                correlation=float(np.mean(correlations)),
                variance_reduction=float(1 - cuped_points.var() / plain_points.var()),
                implied_reduction=float(1 - np.mean(widths**2)),
                interval_width_ratio=float(widths.mean()),
                false_positives_plain=float(np.mean([plain[i].p_value < ALPHA for i in ok])),
                false_positives_cuped=float(np.mean([cuped[i].p_value < ALPHA for i in ok])),
            )
        )
    return results


# ------------------------------------------------------------------------------- report


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _margin(share: float, count: int) -> str:
    """Share with its 95 % binomial margin (normal approximation)."""
    return f"{_pct(share)} ± {_pct(1.96 * np.sqrt(max(share * (1 - share), 1e-12) / count))}"


def report_lines(args, peeks, gains, seconds: float) -> list[str]:
    """The Markdown section: command, set-up, both tables, machine."""
    command = "`.venv/bin/python bench/aa_simulation.py --write docs/benchmarks.md`"
    if (args.experiments, args.days, args.seed) != (2000, 30, 16):
        command = (
            f"`.venv/bin/python bench/aa_simulation.py --experiments {args.experiments} "
            f"--days {args.days} --seed {args.seed} --write docs/benchmarks.md`"
        )
    n = args.experiments
    lines = [
        f"Command: {command} (seeded; {seconds:.0f} s on this machine).",
        "",
        f"**Peeking.** {n:,} A/A experiments (no real difference) of {args.days} days, "
        f"Poisson({VISITORS_PER_DAY}) new visitors per arm per day, {_pct(CONVERSION_RATE)} "
        "of them buying once, orders log-normal around ¥4,000; alpha 5 %, sequential tuning "
        "5,000 (the default). A false positive is p < 0.05 on any day read. Target: "
        "sequential ≤ 5 %. The last two columns read only the days on which every arm has "
        f"at least {MIN_EVENTS_PER_ARM} buyers (`MIN_EVENTS_PER_ARM`). ± is the simulation's "
        "own 95 % margin.",
        "",
        "| metric | uplift | fixed-horizon, read once (last day) | fixed-horizon, read daily | "
        f"sequential, read daily | fixed-horizon, daily from {MIN_EVENTS_PER_ARM} buyers/arm | "
        f"sequential, daily from {MIN_EVENTS_PER_ARM} buyers/arm |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in peeks:
        lines.append(
            f"| {r.metric} | {r.uplift} | {_margin(r.fixed_once, n)} | "
            f"{_margin(r.fixed_daily, n)} | **{_margin(r.sequential_daily, n)}** | "
            f"{_margin(r.fixed_daily_gated, n)} | **{_margin(r.sequential_daily_gated, n)}** |"
        )
    fixed = [r.fixed_daily for r in peeks]
    ungated = {(r.metric, r.uplift): r.sequential_daily for r in peeks}
    gated = [r.sequential_daily_gated for r in peeks]
    lines += [
        "",
        f"Reading: checked daily, the fixed-horizon p-value calls {_pct(min(fixed))}–"
        f"{_pct(max(fixed))} of experiments with no real difference significant. The sequential "
        f"test read daily from the first visitor: {_pct(max(ungated.values()))} at worst "
        f"(relative uplift of revenue: {_pct(ungated[('revenue per visitor', 'relative')])}) — "
        "the confidence sequence is asymptotic, and the delta method of the relative uplift is "
        "poor with a handful of buyers; read from "
        f"{MIN_EVENTS_PER_ARM} buyers per arm: {_pct(min(gated))}–{_pct(max(gated))}. "
        "See docs/statistics.md §4.",
    ]
    lines += [
        "",
        "Sequential test read daily, by the fewest buyers an arm must have before a day is "
        "read (false-positive rate):",
        "",
        "| metric | uplift | " + " | ".join(f"from {g} buyers/arm" for g in GATES) + " |",
        "|---|---|" + "---:|" * len(GATES),
    ]
    for r in peeks:
        cells = " | ".join(_pct(r.sequential_by_gate[g]) for g in GATES)
        lines.append(f"| {r.metric} | {r.uplift} | {cells} |")
    lines += [
        "",
        f"**CUPED.** {n:,} A/A experiments of 2 × {MEMBERS_PER_ARM:,} members "
        f"({_pct(REGULAR_SHARE)} regulars re-ordering about monthly, the rest occasional); "
        "covariate = the member's value of the metric in the 14 days before exposure, metric "
        "over the 30 days of the test; absolute uplift, fixed-horizon. Variance reduction = "
        "1 − Var(CUPED estimates) / Var(plain estimates) across the experiments (itself a "
        f"noisy figure: two variances of {n:,} skewed estimates); as the intervals report it: "
        "1 − (width CUPED / width plain)², averaged; theory: ρ².",
        "",
        "| metric | correlation ρ (metric, covariate) | ρ² | variance reduction, observed | "
        "variance reduction, from the intervals | interval width, CUPED / plain | "
        "false positives plain / CUPED |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for g in gains:
        lines.append(
            f"| {g.metric} | {g.correlation:.3f} | {_pct(g.correlation**2)} | "
            f"{_pct(g.variance_reduction)} | {_pct(g.implied_reduction)} | "
            f"{g.interval_width_ratio:.3f} | "
            f"{_pct(g.false_positives_plain)} / {_pct(g.false_positives_cuped)} |"
        )
    lines += ["", machine_description()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--write", type=Path, help="rewrite this section of the Markdown file")
    args = parser.parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    peeks = peeking(rng, args.experiments, args.days)
    gains = cuped_gain(rng, args.experiments)
    lines = report_lines(args, peeks, gains, time.perf_counter() - started)
    print("\n".join(lines))
    if args.write:
        title = "A/A simulation: peeking, sequential testing and CUPED"
        write_section(args.write, "aa-simulation", title, lines)


if __name__ == "__main__":
    main()
