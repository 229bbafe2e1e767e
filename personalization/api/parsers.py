"""How API request bodies are read: strict JSON, so no endpoint ever meets a number that is not
finite or a body its checks cannot follow."""

from __future__ import annotations

import codecs
import json
import math
from dataclasses import dataclass

from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from personalization.bounds import Path, json_path


class NonFiniteNumber(ParseError):
    """A number no float can hold (`1e400`, which Python reads as infinity) or a NaN/Infinity
    literal: refused for every endpoint, naming where it is (`path`, from the body's top)."""

    def __init__(self, path: Path, literal: str) -> None:
        where = json_path(path) or "the body"
        super().__init__(f"JSON parse error - {where}: numbers must be finite (got {literal}).")
        self.path = path
        self.literal = literal


class _NotFinite(Exception):
    """Raised from inside the decoder to stop at the first number that is not finite."""


@dataclass(frozen=True)
class _Literal:
    text: str


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _NotFinite(text)
    return number


def _refuse_constant(text: str):
    raise _NotFinite(text)


def _marked_float(text: str) -> float | _Literal:
    number = float(text)
    return _Literal(text) if math.isinf(number) else number


def _locate_non_finite(text: str, literal: str) -> NonFiniteNumber:
    """Where the first non-finite number of a body is (decoded again, only for bad bodies,
    with those numbers kept as markers, and walked without recursion)."""
    try:
        document = json.loads(text, parse_float=_marked_float, parse_constant=_Literal)
    except RecursionError:  # the decoder stopped at the number before reaching the depths
        return NonFiniteNumber((), literal)
    stack: list[tuple[Path, object]] = [((), document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _Literal):
            return NonFiniteNumber(path, value.text)
        if isinstance(value, dict):
            stack += [((*path, k), v) for k, v in reversed(list(value.items()))]
        elif isinstance(value, list):
            stack += [((*path, i), v) for i, v in reversed(list(enumerate(value)))]
    return NonFiniteNumber((), literal)  # not reached: the first decoding found one


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, stricter: a number that is not finite is a 400 naming its place
    (`1e400` used to be read as infinity, accepted, then refused by PostgreSQL long after the
    202), and a body nested too deeply for Python's decoder (a few hundred levels of `[`) is a
    400 like any other malformed JSON (DRF catches only ValueError: it used to be a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            return json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
        except _NotFinite as exc:
            raise _locate_non_finite(text, str(exc)) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise ParseError(gettext("JSON parse error - nested too deeply.")) from None
