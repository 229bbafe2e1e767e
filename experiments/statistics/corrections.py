"""Multiple-comparison corrections of a family of p-values (Holm 1979; Benjamini-Hochberg 1995).

A report that shows several comparisons (variants x segments x goals) will show some "significant"
differences by chance alone; adjusted p-values account for the whole family. The arithmetic is
statsmodels' `multipletests` (methods "holm" and "fdr_bh"), checked against it on the cases in
`tests/conformance/data/statsmodels-cases.json.gz`:

- holm: sort ascending; the k-th smallest (k = 1..m) becomes (m - k + 1) p, made non-decreasing
  along the order, capped at 1. Controls the chance of any false positive in the family.
- bh: sort ascending; the k-th smallest becomes p / (k / m), made non-increasing from the largest
  down, capped at 1. Controls the expected share of false positives among the positives.

Entries that are None (a comparison that could not be computed) stay None and are not counted in
the family.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["METHODS", "adjust_p_values"]

METHODS = ("holm", "bh")


def _holm(sorted_p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of ascending p-values."""
    raw = sorted_p * np.arange(len(sorted_p), 0, -1)
    return np.maximum.accumulate(raw)


def _benjamini_hochberg(sorted_p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg step-up adjustment of ascending p-values."""
    m = len(sorted_p)
    raw = sorted_p / (np.arange(1, m + 1) / float(m))
    return np.minimum.accumulate(raw[::-1])[::-1]


def adjust_p_values(p_values: Sequence[float | None], method: str) -> list[float | None]:
    """Adjusted p-values in the input's order; `method` is "holm" or "bh"."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    present = [i for i, p in enumerate(p_values) if p is not None]
    values = np.array([float(p_values[i]) for i in present], dtype=float)
    if not all(math.isfinite(p) and 0 <= p <= 1 for p in values):
        raise ValueError("p-values must be between 0 and 1")
    result: list[float | None] = [None] * len(p_values)
    if not present:
        return result
    order = np.argsort(values, kind="stable")
    adjust = _holm if method == "holm" else _benjamini_hochberg
    adjusted = np.minimum(adjust(values[order]), 1.0)
    for position, value in zip(order, adjusted, strict=True):
        result[present[position]] = float(value)
    return result
