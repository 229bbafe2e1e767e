"""Statistical and determinism checks for experiments.bucketing.assign on synthetic traffic."""

from __future__ import annotations

from collections import Counter

import pytest

from experiments.bucketing import assign, hash

VISITORS = 100_000
TOLERANCE = 0.01  # absolute, on each arm's share of all visitors
SPLITS = {"50-50": ("homepage-hero", [0.5, 0.5]), "20-30-50": ("pricing-layout", [0.2, 0.3, 0.5])}


@pytest.fixture(scope="module")
def visitor_ids() -> list[str]:
    """Return 100,000 sequential ids: structured ids are a harsher test of the hash than random."""
    return [f"visitor-{i}" for i in range(VISITORS)]


def _assign_all(
    ids: list[str], seed: str, weights: list[float], coverage: float = 1.0
) -> list[int | None]:
    """Assign every id once and return the assignments in id order."""
    return [assign(seed=seed, visitor_id=v, weights=weights, coverage=coverage) for v in ids]


def _shares(assignments: list[int | None], arms: int) -> list[float]:
    """Return each arm's share of all visitors (unassigned visitors count in the denominator)."""
    counts = Counter(assignments)
    return [counts[i] / len(assignments) for i in range(arms)]


@pytest.fixture(scope="module")
def first_runs(visitor_ids: list[str]) -> dict[str, list[int | None]]:
    """Assign all visitors once per configured split (hashing 100k ids is the slow part)."""
    return {key: _assign_all(visitor_ids, seed, weights) for key, (seed, weights) in SPLITS.items()}


@pytest.mark.parametrize("split", list(SPLITS))
def test_split_matches_weights(first_runs: dict[str, list[int | None]], split: str) -> None:
    """Every visitor is assigned and each arm's share is within 1 % of its weight."""
    assignments = first_runs[split]
    weights = SPLITS[split][1]
    assert None not in assignments
    for observed, expected in zip(_shares(assignments, len(weights)), weights, strict=True):
        assert abs(observed - expected) <= TOLERANCE


def test_same_ids_get_same_variant(
    visitor_ids: list[str], first_runs: dict[str, list[int | None]]
) -> None:
    """A second, independent run over the same ids reproduces every assignment."""
    seed, weights = SPLITS["20-30-50"]
    assert _assign_all(visitor_ids, seed, weights) == first_runs["20-30-50"]


def test_half_coverage_leaves_half_unassigned(visitor_ids: list[str]) -> None:
    """Coverage 0.5 leaves ~half of visitors out and splits the rest evenly."""
    assignments = _assign_all(visitor_ids, "newsletter-cta", [0.5, 0.5], coverage=0.5)
    unassigned = assignments.count(None) / len(assignments)
    assert abs(unassigned - 0.5) <= TOLERANCE
    for share in _shares(assignments, 2):
        assert abs(share - 0.25) <= TOLERANCE


def test_seed_changes_assignment(visitor_ids: list[str]) -> None:
    """Different experiment seeds bucket independently (about half agree on a 50/50)."""
    ids = visitor_ids[:5_000]
    a = _assign_all(ids, "experiment-a", [0.5, 0.5])
    b = _assign_all(ids, "experiment-b", [0.5, 0.5])
    agreement = sum(x == y for x, y in zip(a, b, strict=True)) / len(ids)
    assert abs(agreement - 0.5) <= 0.03


def test_empty_visitor_id_is_not_bucketed() -> None:
    """An empty id is never assigned, as in the GrowthBook SDKs."""
    assert assign(seed="s", visitor_id="", weights=[0.5, 0.5]) is None


def test_unknown_hash_version_is_rejected() -> None:
    """An unsupported hash version is a configuration error."""
    with pytest.raises(ValueError, match="hash version"):
        assign(seed="s", visitor_id="v", weights=[0.5, 0.5], hash_version=3)


def test_invalid_weights_fall_back_to_equal_split(visitor_ids: list[str]) -> None:
    """Weights that do not sum to ~1 are replaced by equal weights, like the SDKs do."""
    ids = visitor_ids[:5_000]
    assert _assign_all(ids, "s", [0.7, 0.6]) == _assign_all(ids, "s", [0.5, 0.5])


@pytest.mark.parametrize(
    ("seed", "value", "v1", "v2"),
    [
        pytest.param("exp", "日本", 0.283, 0.6896, id="cjk"),
        pytest.param("exp", "😀user", 0.914, 0.6373, id="astral-surrogate-pair"),
        pytest.param("seed", "é", 0.137, 0.8663, id="latin-1"),
    ],
)
def test_non_ascii_hash_matches_sdk(seed: str, value: str, v1: float, v2: float) -> None:
    """Non-ASCII ids hash over UTF-16 code units (values from the growthbook 4.0 Python SDK)."""
    assert hash(seed, value, 1) == pytest.approx(v1, abs=1e-9)
    assert hash(seed, value, 2) == pytest.approx(v2, abs=1e-9)
