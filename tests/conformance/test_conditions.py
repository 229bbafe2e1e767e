"""GrowthBook cross-SDK conformance cases for personalization.conditions (evalCondition)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from personalization.conditions import compile_condition, evaluate

CASES_PATH = Path(__file__).resolve().parent / "data" / "growthbook-cases.json"
EXPECTED_CASE_COUNT = 235

# Cases where the file expects JavaScript-style coercion and we are deliberately strict
# (see data/README.md): a missing attribute never satisfies $gt/$lt, and a
# string is never ordered against a number.
STRICT_DEPARTURES = {
    "missing attribute with comparison operators": False,
    "comparing numbers and strings": False,
    "comparing numbers and strings - v2": False,
}


@cache
def _load_cases() -> list[list[Any]]:
    """Read the evalCondition section of the vendored conformance file once."""
    return json.loads(CASES_PATH.read_text(encoding="utf-8"))["evalCondition"]


def _params() -> list[Any]:
    """One pytest param per case, with an index prefix so repeated names stay unique."""
    return [
        pytest.param(case, id=f"{index:03d}-{case[0]}") for index, case in enumerate(_load_cases())
    ]


def _expected(case: list[Any]) -> bool:
    """The expected result, with our strict departures applied by case name."""
    return STRICT_DEPARTURES.get(case[0], case[3])


def _saved_groups(case: list[Any]) -> dict[str, list[Any]] | None:
    """The optional fifth element: saved groups by id."""
    return case[4] if len(case) > 4 else None


def test_case_count() -> None:
    """The file has the number of evalCondition cases we expect."""
    assert len(_load_cases()) == EXPECTED_CASE_COUNT


def test_departures_still_differ_from_file() -> None:
    """Each departure names a case that exists and that the file expects to be true."""
    by_name = {case[0]: case[3] for case in _load_cases()}
    for name in STRICT_DEPARTURES:
        assert by_name.get(name) is True, name


@pytest.mark.parametrize("case", _params())
def test_evaluate(case: list[Any]) -> None:
    """The interpreter gives the expected result."""
    _, condition, attributes, *_ = case
    assert evaluate(condition, attributes, _saved_groups(case)) is _expected(case)


@pytest.mark.parametrize("case", _params())
def test_compile_condition(case: list[Any]) -> None:
    """The compiled condition gives the expected result."""
    _, condition, attributes, *_ = case
    assert compile_condition(condition, _saved_groups(case))(attributes) is _expected(case)
