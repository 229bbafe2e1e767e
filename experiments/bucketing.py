"""Deterministic experiment bucketing, a port of GrowthBook's published algorithm.

A given visitor gets the same variant from the server, the API and any compliant GrowthBook SDK,
because the assignment is a pure function of (seed, visitor id, weights, coverage, hash version).
The behaviour is pinned by GrowthBook's cross-SDK conformance cases
(``tests/conformance/test_bucketing.py``). Standard library only: no Django imports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

__all__ = [
    "assign",
    "choose_variation",
    "get_bucket_ranges",
    "get_equal_weights",
    "hash",
    "in_namespace",
]

FNV_OFFSET_BASIS = 0x811C9DC5
FNV_PRIME = 0x01000193
MASK_32 = 0xFFFFFFFF

WEIGHT_SUM_MIN = 0.99
WEIGHT_SUM_MAX = 1.01

BucketRange = tuple[float, float]


def _code_units(text: str) -> Sequence[int]:
    """Return the UTF-16 code units of text, as the JS SDK's ``charCodeAt`` loop sees them."""
    if text.isascii():
        return text.encode("ascii")
    data = text.encode("utf-16-le", "surrogatepass")
    return [data[i] | (data[i + 1] << 8) for i in range(0, len(data), 2)]


def _fnv1a32_update(state: int, text: str) -> int:
    """Feed text into a running FNV-1a 32-bit state, so a shared prefix is hashed only once."""
    prime, mask = FNV_PRIME, MASK_32  # locals: this loop is the bucketing hot path
    for unit in _code_units(text):
        state = ((state ^ unit) * prime) & mask
    return state


@lru_cache(maxsize=256)
def _fnv1a32_prefix(prefix: str) -> int:
    """Cache the FNV state after an experiment seed, which every visitor hash starts with."""
    return _fnv1a32_update(FNV_OFFSET_BASIS, prefix)


def hash(seed: str, value: str, version: int) -> float | None:  # noqa: A001 - GrowthBook's name
    """Map (seed, value) to a uniform number in [0, 1); None for an unknown hash version."""
    if version == 2:
        inner = _fnv1a32_update(_fnv1a32_prefix(seed), value)
        return (_fnv1a32_update(FNV_OFFSET_BASIS, str(inner)) % 10000) / 10000
    if version == 1:
        return (_fnv1a32_update(FNV_OFFSET_BASIS, value + seed) % 1000) / 1000
    return None


def get_equal_weights(n: int) -> list[float]:
    """Return n equal weights, the fallback whenever configured weights are unusable."""
    if n < 1:
        return []
    return [1 / n] * n


def _weights_are_valid(weights: Sequence[float] | None, num_variations: int) -> bool:
    """Check for one finite, non-negative weight per variation summing to ~1 (GrowthBook's rule)."""
    if weights is None or len(weights) != num_variations:
        return False
    if not all(math.isfinite(w) and w >= 0 for w in weights):
        return False
    return WEIGHT_SUM_MIN <= sum(weights) <= WEIGHT_SUM_MAX


def get_bucket_ranges(
    num_variations: int, coverage: float = 1, weights: Sequence[float] | None = None
) -> list[BucketRange]:
    """Turn weights and coverage into one half-open [start, end) hash range per variation."""
    coverage = min(max(coverage, 0.0), 1.0)
    if weights is not None and _weights_are_valid(weights, num_variations):
        used = list(weights)
    else:
        used = get_equal_weights(num_variations)
    ranges: list[BucketRange] = []
    cumulative = 0.0
    for weight in used:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return ranges


def choose_variation(n: float, ranges: Sequence[Sequence[float]]) -> int:
    """Return the index of the range containing n, or -1 when n falls in a coverage gap."""
    for index, (start, end) in enumerate(ranges):
        if start <= n < end:
            return index
    return -1


def in_namespace(user_id: str, namespace: tuple[str, float, float]) -> bool:
    """Tell whether a user is in a namespace slice; slices keep experiments mutually exclusive."""
    name, start, end = namespace
    n = hash("__" + name, user_id, 1)
    if n is None:
        return False
    return start <= n < end


def assign(
    *,
    seed: str,
    visitor_id: str,
    weights: list[float],
    coverage: float = 1.0,
    hash_version: int = 2,
) -> int | None:
    """Return the visitor's variation index, or None when outside coverage (or id is empty).

    Mirrors the GrowthBook SDK's experiment step: hash, build ranges, choose. An empty visitor
    id is never bucketed, as in the SDKs. Raises ValueError for an unsupported hash version,
    which is a configuration error rather than a per-visitor outcome.
    """
    if not visitor_id:
        return None
    n = hash(seed, visitor_id, hash_version)
    if n is None:
        raise ValueError(f"unsupported hash version: {hash_version!r}")
    index = choose_variation(n, _cached_ranges(tuple(weights), coverage))
    return index if index >= 0 else None


@lru_cache(maxsize=256)
def _cached_ranges(weights: tuple[float, ...], coverage: float) -> tuple[BucketRange, ...]:
    """Memoise ranges per experiment config, since assign() runs once per request."""
    return tuple(get_bucket_ranges(len(weights), coverage, weights))
