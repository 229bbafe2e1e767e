"""GrowthBook cross-SDK conformance cases for experiments.bucketing."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from experiments.bucketing import (
    choose_variation,
    get_bucket_ranges,
    get_equal_weights,
    hash,
    in_namespace,
)

CASES_PATH = Path(__file__).resolve().parent / "data" / "growthbook-cases.json"
TOLERANCE = 1e-3


@cache
def _load_cases() -> dict[str, Any]:
    """Read the vendored conformance file (data/README.md) once per session."""
    return json.loads(CASES_PATH.read_text(encoding="utf-8"))


def _cases(section: str, id_of: Any) -> list[Any]:
    """Wrap one section's cases as pytest params with unique, readable ids."""
    cases = _load_cases()[section]
    params = []
    seen: dict[str, int] = {}
    for case in cases:
        base = str(id_of(case))
        seen[base] = seen.get(base, 0) + 1
        case_id = base if seen[base] == 1 else f"{base}#{seen[base]}"
        params.append(pytest.param(*case, id=case_id))
    return params


def _close(actual: float, expected: float) -> bool:
    """Compare floats with the suite's absolute tolerance."""
    return actual == pytest.approx(expected, abs=TOLERANCE)


@pytest.mark.parametrize(
    ("seed", "value", "version", "expected"),
    _cases("hash", lambda c: f"v{c[2]}:{c[0]!r}+{c[1]!r}"),
)
def test_hash(seed: str, value: str, version: int, expected: float | None) -> None:
    """hash() matches the published value, and None for unknown versions."""
    result = hash(seed, value, version)
    if expected is None:
        assert result is None
    else:
        assert result is not None
        assert _close(result, expected)


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    _cases("getBucketRange", lambda c: c[0]),
)
def test_get_bucket_ranges(name: str, args: list[Any], expected: list[list[float]]) -> None:
    """get_bucket_ranges() produces the published ranges."""
    num_variations, coverage, weights = args
    result = get_bucket_ranges(num_variations, coverage, weights)
    assert len(result) == len(expected)
    for (start, end), (exp_start, exp_end) in zip(result, expected, strict=True):
        assert _close(start, exp_start)
        assert _close(end, exp_end)


@pytest.mark.parametrize(
    ("name", "n", "ranges", "expected"),
    _cases("chooseVariation", lambda c: c[0]),
)
def test_choose_variation(name: str, n: float, ranges: list[list[float]], expected: int) -> None:
    """choose_variation() picks the published index (-1 in coverage gaps)."""
    assert choose_variation(n, ranges) == expected


@pytest.mark.parametrize(
    ("name", "user_id", "namespace", "expected"),
    _cases("inNamespace", lambda c: c[0]),
)
def test_in_namespace(name: str, user_id: str, namespace: list[Any], expected: bool) -> None:
    """in_namespace() agrees with the published membership."""
    ns_name, start, end = namespace
    assert in_namespace(user_id, (ns_name, start, end)) is expected


@pytest.mark.parametrize(
    ("num_variations", "expected"),
    _cases("getEqualWeights", lambda c: f"n={c[0]}"),
)
def test_get_equal_weights(num_variations: int, expected: list[float]) -> None:
    """get_equal_weights() returns the published weights."""
    result = get_equal_weights(num_variations)
    assert len(result) == len(expected)
    for actual, exp in zip(result, expected, strict=True):
        assert _close(actual, exp)
