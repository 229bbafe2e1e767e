"""Write the reference cases that experiments.statistics is checked against.

    python3.11 tests/conformance/make_stats_cases.py            # from the repository root
    python3.11 tests/conformance/make_stats_cases.py --venv /tmp/stats-ref-venv   # reuse a venv

gbstats 0.8.0 (GrowthBook's engine) pins numpy < 2 and pandas < 2, so it cannot be installed in
the project's environment. This script creates a throw-away venv (in a temporary directory, or
the one given with --venv), installs the pinned references from PyPI, runs itself inside it with
--generate, and writes, seeded and byte-for-byte reproducible:

- tests/conformance/data/gbstats-cases.json.gz: inputs and gbstats' results of TwoSidedTTest /
  SequentialTwoSidedTTest on Proportion / SampleMean / RegressionAdjusted statistics;
- tests/conformance/data/statsmodels-cases.json.gz: statsmodels' multipletests ("holm",
  "fdr_bh") and NormalIndPower (power and solve_power).

The layout of both files is described in tests/conformance/data/README.md. Nothing here runs at
test time; the tests only read the two files.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

try:  # present in the reference venv; the outer run (any Python 3.11) only builds that venv
    import numpy as np
    from scipy import stats
except ImportError:
    np = stats = None

PINS = [
    "gbstats==0.8.0",
    "statsmodels==0.15.0",
    "numpy==1.26.4",
    "pandas==1.5.3",
    "scipy==1.17.1",
]
SEED = 16
CASES_PER_COMBINATION = 700  # x 16 combinations of binary/cuped/relative/sequential
DATA = Path(__file__).resolve().parent / "data"


def _sig(x: float, digits: int) -> float:
    """Round to `digits` significant digits (keeps the JSON small; the rounded value is used)."""
    return float(f"{x:.{digits}g}")


# ----------------------------------------------------------------------- gbstats inputs


def _size(rng) -> int:
    """Units in an arm: a fifth tiny (2-100), the rest log-uniform up to 10 million."""
    if rng.random() < 0.2:
        return int(rng.integers(2, 101))
    return int(round(10 ** rng.uniform(2, 7)))


def _lift(rng) -> float:
    """True relative effect: none in a third of the cases, else normal around 0."""
    return 0.0 if rng.random() < 1 / 3 else float(rng.normal(0, 0.15))


def _binary_arm(rng, n: int, rate: float, pre_rate: float, carry: float) -> list:
    """Conversions, and the same metric before exposure, correlated through `carry`."""
    p_hi = min(0.999, rate + carry * (1 - rate))  # converted before: more likely again
    p_lo = max(0.0, (rate - pre_rate * p_hi) / (1 - pre_rate))
    both, pre_only, post_only = _cells(rng, n, pre_rate, p_hi, p_lo)
    post, pre = both + post_only, both + pre_only
    return [n, post, post, pre, pre, both]


def _cells(rng, n: int, pre_rate: float, p_hi: float, p_lo: float) -> tuple[int, int, int]:
    """Counts of (converted before and after, before only, after only) among n units."""
    pre = int(rng.binomial(n, pre_rate))
    both = int(rng.binomial(pre, p_hi))
    post_only = int(rng.binomial(n - pre, min(max(p_lo, 0.0), 1.0)))
    return both, pre - both, post_only


def _binary_pair(rng) -> tuple[list, list]:
    """A control and a variant arm of a conversion metric."""
    rate = 10 ** rng.uniform(-2.7, math.log10(0.9))
    pre_rate = min(0.95, rate * 10 ** rng.uniform(-0.5, 0.5))
    carry = rng.uniform(0, 0.8)
    n_a = _size(rng)
    n_b = n_a if rng.random() < 0.5 else _size(rng)
    rate_b = min(0.99, max(1e-4, rate * (1 + _lift(rng))))
    return (
        _binary_arm(rng, n_a, rate, pre_rate, carry),
        _binary_arm(rng, n_b, rate_b, pre_rate, carry),
    )


def _raw_value_arm(rng, n: int, scale: float, lift: float, corr: float) -> list:
    """A small arm from per-unit values: zero-inflated, skewed, like revenue per visitor."""
    pre = rng.lognormal(0, 1, n) * (rng.random(n) < 0.3) * scale
    noise = rng.lognormal(0, 1, n) * (rng.random(n) < 0.3) * scale
    post = (corr * pre + (1 - corr) * noise) * (1 + lift)
    if rng.random() < 0.2:
        post, pre = np.round(post), np.round(pre)  # whole numbers, e.g. counts or yen
    return [
        n,
        float(post.sum()),
        float((post**2).sum()),
        float(pre.sum()),
        float((pre**2).sum()),
        float((post * pre).sum()),
    ]


def _summary_value_arm(rng, n: int, mean: float, sd: float, corr: float, lift: float) -> list:
    """A large arm drawn directly as sums: sample means and a Wishart sample covariance."""
    pre_mean, pre_sd = mean * rng.uniform(0.5, 1.5), sd * rng.uniform(0.5, 1.5)
    cov = np.array([[sd**2, corr * sd * pre_sd], [corr * sd * pre_sd, pre_sd**2]], dtype=float)
    means = rng.multivariate_normal([mean * (1 + lift), pre_mean], cov / n)
    s = stats.wishart(df=n - 1, scale=cov).rvs(random_state=rng) / (n - 1)
    post_sum, pre_sum = n * means[0], n * means[1]
    return [
        n,
        post_sum,
        (n - 1) * s[0, 0] + n * means[0] ** 2,
        pre_sum,
        (n - 1) * s[1, 1] + n * means[1] ** 2,
        (n - 1) * s[0, 1] + n * means[0] * means[1],
    ]


def _value_pair(rng) -> tuple[list, list]:
    """A control and a variant arm of a value metric (e.g. revenue per visitor)."""
    n_a = _size(rng)
    n_b = n_a if rng.random() < 0.5 else _size(rng)
    corr = rng.uniform(-0.2, 0.95)
    lift = _lift(rng)
    if max(n_a, n_b) <= 100:
        scale = 10 ** rng.uniform(-1, 4)
        arms = (
            _raw_value_arm(rng, n_a, scale, 0.0, corr),
            _raw_value_arm(rng, n_b, scale, lift, corr),
        )
    else:
        n_a, n_b = max(n_a, 3), max(n_b, 3)
        mean = 10 ** rng.uniform(-2, 4)
        sd = mean * 10 ** rng.uniform(-1, 1.3)
        arms = (
            _summary_value_arm(rng, n_a, mean, sd, corr, 0.0),
            _summary_value_arm(rng, n_b, mean, sd, corr, lift),
        )
    return tuple([arm[0]] + [_sig(x, 13) for x in arm[1:]] for arm in arms)


def _settings(rng, sequential: bool) -> tuple[float, float]:
    """alpha (0.05 half the time) and the sequential tuning parameter (5000 half the time)."""
    alpha = 0.05 if rng.random() < 0.5 else _sig(rng.uniform(0.001, 0.3), 6)
    tuning = 5000.0
    if sequential and rng.random() < 0.5:
        tuning = float(round(10 ** rng.uniform(2, 6)))
    return alpha, tuning


# Hand-written edge cases: [binary, cuped, relative, sequential, alpha, tuning, control, variant]
# fmt: off
SPECIAL = [
    [1, 0, 1, 0, 0.05, 5000, [1000, 0, 0], [1000, 10, 10]],  # control mean 0
    [1, 0, 0, 1, 0.05, 5000, [1000, 10, 10], [1000, 0, 0]],  # variant variance 0
    [1, 0, 1, 1, 0.05, 5000, [500, 500, 500], [500, 490, 490]],  # control converts always
    [1, 0, 1, 0, 0.05, 5000, [0, 0, 0], [10, 3, 3]],  # empty control
    [1, 0, 0, 0, 0.05, 5000, [10, 3, 3], [0, 0, 0]],  # empty variant
    [1, 0, 0, 0, 0.05, 5000, [1, 1, 1], [10, 3, 3]],  # one unit
    [1, 0, 1, 0, 0.05, 5000, [2, 1, 1], [2, 1, 1]],  # two units each, identical
    [0, 0, 1, 0, 0.05, 5000, [1, 5.0, 25.0], [10, 30.0, 200.0]],  # one unit, value metric
    [0, 0, 0, 0, 0.05, 5000, [50, 100.0, 200.0], [50, 120.0, 400.0]],  # constant control
    [0, 0, 0, 1, 0.05, 5000, [50, 0.0, 0.0], [50, 120.0, 400.0]],  # all-zero control
    [0, 0, 0, 0, 0.05, 5000, [40, 0.0, 360.0], [40, 12.0, 300.0]],  # control mean 0, var > 0
    # CUPED with a constant covariate: theta 0, the plain analysis is used
    [0, 1, 1, 0, 0.05, 5000, [100, 250.0, 1400.0, 100.0, 100.0, 250.0],
     [100, 300.0, 1800.0, 100.0, 100.0, 300.0]],
    [1, 1, 1, 1, 0.05, 5000, [1000, 100, 100, 0, 0, 0], [1000, 130, 130, 0, 0, 0]],
    [1, 1, 0, 0, 0.05, 5000, [1000, 100, 100, 1000, 1000, 100], [900, 80, 80, 900, 900, 80]],
    # CUPED with an exactly uncorrelated covariate: theta 0 as well
    [0, 1, 0, 0, 0.05, 5000, [4, 4.0, 6.0, 4.0, 6.0, 4.0], [4, 4.0, 6.0, 4.0, 6.0, 4.0]],
    # CUPED where the metric equals the covariate: adjusted variance 0
    [0, 1, 0, 0, 0.05, 5000, [30, 60.0, 200.0, 60.0, 200.0, 200.0],
     [30, 75.0, 260.0, 75.0, 260.0, 260.0]],
    [1, 1, 1, 0, 0.05, 5000, [200, 40, 40, 40, 40, 40], [200, 50, 50, 50, 50, 50]],
    # a huge effect on a huge sample: the sequential p-value underflows to 0
    [1, 0, 1, 1, 0.05, 5000, [10_000_000, 100_000, 100_000], [10_000_000, 200_000, 200_000]],
    [1, 0, 0, 0, 0.05, 5000, [10_000_000, 100_000, 100_000], [10_000_000, 200_000, 200_000]],
    # extreme levels and tuning
    [1, 0, 1, 1, 1e-6, 1, [5000, 250, 250], [5000, 300, 300]],
    [1, 0, 1, 1, 0.5, 1e9, [5000, 250, 250], [5000, 300, 300]],
    [0, 0, 1, 0, 0.999, 5000, [3, 1.0, 1.0], [3, 2.0, 2.0]],
    # negative control mean (refunds larger than sales)
    [0, 0, 1, 0, 0.05, 5000, [200, -50.0, 5000.0], [200, 30.0, 4000.0]],
]
# fmt: on


def _statistic(arm: list, binary: bool, cuped: bool):
    """The gbstats statistic for an arm written as [n, sum, ss, pre_sum, pre_ss, products]."""
    from gbstats.models.statistics import (
        ProportionStatistic,
        RegressionAdjustedStatistic,
        SampleMeanStatistic,
    )

    def base(total, squares):
        if binary:
            return ProportionStatistic(n=arm[0], sum=total)
        return SampleMeanStatistic(n=arm[0], sum=total, sum_squares=squares)

    if not cuped:
        return base(arm[1], arm[2])
    return RegressionAdjustedStatistic(
        n=arm[0],
        post_statistic=base(arm[1], arm[2]),
        pre_statistic=base(arm[3], arm[4]),
        post_pre_sum_of_products=arm[5],
        theta=0,
    )


def _gbstats_result(case: list):
    """gbstats' [expected, ci low, ci high, p] for a case, or its error message."""
    from gbstats.frequentist.tests import (
        FrequentistConfig,
        SequentialConfig,
        SequentialTwoSidedTTest,
        TwoSidedTTest,
    )

    binary, cuped, relative, sequential, alpha, tuning, control, variant = case
    kind = "relative" if relative else "absolute"
    a = _statistic(control, bool(binary), bool(cuped))
    b = _statistic(variant, bool(binary), bool(cuped))
    if sequential:
        config = SequentialConfig(
            alpha=alpha, difference_type=kind, sequential_tuning_parameter=tuning
        )
        test = SequentialTwoSidedTTest(a, b, config)
    else:
        test = TwoSidedTTest(a, b, FrequentistConfig(alpha=alpha, difference_type=kind))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = test.compute_result()
    if result.error_message:
        return result.error_message
    values = [result.expected, result.ci[0], result.ci[1], result.p_value]
    if not all(math.isfinite(float(v)) for v in values):
        raise AssertionError(f"gbstats returned a non-finite value for {case}: {values}")
    return [_sig(float(v), 15) for v in values]


def gbstats_cases(rng) -> list:
    """Random cases over every combination of the flags, then the hand-written edge cases."""
    cases = []
    for combination in range(16):
        binary, cuped, relative, sequential = ((combination >> bit) & 1 for bit in range(4))
        for _ in range(CASES_PER_COMBINATION):
            control, variant = _binary_pair(rng) if binary else _value_pair(rng)
            if not cuped:
                control, variant = control[:3], variant[:3]
            alpha, tuning = _settings(rng, bool(sequential))
            cases.append([binary, cuped, relative, sequential, alpha, tuning, control, variant])
    cases.extend(SPECIAL)
    for case in cases:
        case.append(_gbstats_result(case))
    return cases


# ------------------------------------------------------------------- statsmodels cases


def _p_values(rng) -> list[float]:
    """A family of p-values: a single one, uniform, small-skewed, with ties, 0 and 1."""
    m = 1 if rng.random() < 0.1 else int(rng.integers(2, 41))
    p = rng.beta(0.4, 1.0, m) if rng.random() < 0.5 else rng.random(m)
    if rng.random() < 0.4:
        p = np.round(p, 2)  # many ties
    if rng.random() < 0.2:
        p[rng.integers(0, m)] = 1.0
    if rng.random() < 0.1:
        p[rng.integers(0, m)] = 0.0
    if m > 1 and rng.random() < 0.2:
        p[rng.integers(0, m)] = p[rng.integers(0, m)]  # an exact duplicate
    return [_sig(float(x), 8) for x in p]


def multipletests_cases(rng, count: int = 1500) -> list:
    """[method, p_values, statsmodels' adjusted p-values] for holm and fdr_bh."""
    from statsmodels.stats.multitest import multipletests

    cases = []
    for method, name in (("holm", "holm"), ("bh", "fdr_bh")):
        for _ in range(count):
            p = _p_values(rng)
            adjusted = multipletests(p, alpha=0.05, method=name)[1]
            cases.append([method, p, [_sig(float(x), 15) for x in adjusted]])
    return cases


def _effect_size(p1: float, mde: float) -> float:
    """statsmodels' standardized effect for the unpooled two-proportion test."""
    p2 = p1 * (1 + mde)
    return abs(p2 - p1) / math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)


def power_cases(rng, count: int = 1000) -> list:
    """[baseline, mde, alpha, power, nobs1 from solve_power, n, power at n]."""
    from statsmodels.stats.power import NormalIndPower

    engine = NormalIndPower()
    cases = []
    while len(cases) < count:
        p1 = _sig(10 ** rng.uniform(-3, math.log10(0.9)), 6)
        mde = _sig((1 if rng.random() < 0.6 else -1) * 10 ** rng.uniform(-2, 0), 6)
        if not 0 < p1 * (1 + mde) < 1:
            continue
        alpha = 0.05 if rng.random() < 0.5 else _sig(rng.uniform(0.001, 0.3), 6)
        power = 0.8 if rng.random() < 0.4 else _sig(rng.uniform(max(0.5, alpha + 0.01), 0.99), 6)
        d = _effect_size(p1, mde)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nobs1 = float(engine.solve_power(d, nobs1=None, alpha=alpha, power=power))
        if not abs(engine.power(d, nobs1, alpha) - power) < 1e-10:
            continue  # statsmodels' solver did not converge: not a reference
        n = _sig(nobs1 * 10 ** rng.uniform(-1, 1), 8)
        at_n = float(engine.power(d, n, alpha))
        cases.append([p1, mde, alpha, power, _sig(nobs1, 15), n, _sig(at_n, 15)])
    return cases


# ----------------------------------------------------------------------------- driver


def _write(path: Path, payload: dict) -> None:
    """Write compact JSON, gzipped without a timestamp so the bytes are reproducible."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(text.encode())
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")


def generate(out: Path) -> None:
    """Inside the reference venv: compute every case and write both files."""
    from importlib.metadata import version

    versions = {name: version(name) for name in ("gbstats", "statsmodels", "numpy", "scipy")}
    rng = np.random.default_rng(SEED)
    cases = gbstats_cases(rng)
    _write(
        out / "gbstats-cases.json.gz",
        {
            "generator": "tests/conformance/make_stats_cases.py",
            "versions": versions,
            "fields": "binary, cuped, relative, sequential, alpha, sequential_tuning, "
            "control, variant, expected",
            "arm": "n, sum, sum_squares[, pre_sum, pre_sum_squares, post_pre_sum_products]",
            "expected": "[point, ci_low, ci_high, p_value] or gbstats' error message",
            "cases": cases,
        },
    )
    _write(
        out / "statsmodels-cases.json.gz",
        {
            "generator": "tests/conformance/make_stats_cases.py",
            "versions": versions,
            "multipletests": multipletests_cases(rng),
            "multipletests_fields": "method, p_values, adjusted",
            "power": power_cases(rng),
            "power_fields": "baseline_rate, relative_mde, alpha, power, nobs1, n, power_at_n",
        },
    )


def build_and_run(venv: Path | None, out: Path) -> None:
    """Create (or reuse) the reference venv and run the generation inside it."""
    made = venv is None
    venv = venv or Path(tempfile.mkdtemp(prefix="stats-ref-")) / "venv"
    python = venv / "bin" / "python"
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
        script = Path(__file__).resolve()
        subprocess.run([str(python), str(script), "--generate", "--out", str(out)], check=True)
    finally:
        if made:
            shutil.rmtree(venv.parent, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, help="reuse (or create) the venv at this path")
    parser.add_argument("--out", type=Path, default=DATA, help="directory to write to")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.out)
    else:
        build_and_run(args.venv, args.out)


if __name__ == "__main__":
    main()
