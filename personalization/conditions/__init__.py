"""GrowthBook-style targeting conditions, evaluated against a dict of visitor attributes.

The language is the MongoDB-like one used by GrowthBook's SDKs. A *condition* is a dict:

- ``{"$and": [cond, ...]}``, ``{"$or": [...]}``, ``{"$nor": [...]}``, ``{"$not": cond}``;
  an empty ``$and``/``$or`` passes, an empty ``$nor`` fails.
- Any other key is an attribute path; dots walk nested dicts (``"behaviour.views.dogs"``) and
  lists (``"tags.0"``, ``"tags.length"``). A missing attribute reads as ``None``.
- Every entry of a condition must pass (an empty condition passes).

An attribute path maps to a literal (strict deep equality: ``1`` never equals ``True`` or
``"1"``) or to an operator object, whose operators must all pass:

- ``$eq $ne`` (primitives), ``$lt $lte $gt $gte`` (two numbers or two strings),
- ``$veq $vne $vlt $vlte $vgt $vgte`` (SemVer-ish versions, e.g. ``"1.2.3-beta.1"``),
- ``$regex $regexi $notRegex $notRegexi`` (Python ``re`` syntax, searched, not anchored),
- ``$in $nin $ini $nini`` (membership; an array attribute matches if any element is in the
  list; the ``i`` forms ignore case), ``$all $alli`` (array contains a match for every item),
- ``$elemMatch`` (some element matches an operator object or, for dict elements, a condition),
  ``$size`` (array length equals a number or matches an operator object),
- ``$exists`` (bool), ``$type`` (``string number boolean array object null``), ``$not``,
- ``$inGroup $notInGroup`` (membership in a saved group: a named list of values).

Departures from GrowthBook's JavaScript reference, all in the "strict" direction:

- Ordering operators never coerce: a missing attribute never satisfies ``$gt``/``$lt``/...,
  and a string is never compared with a number (so "age between 20 and 29" does not match a
  visitor whose age is unknown). Regexes only match strings.
- Object literals compare by keys and values, not by key order (JSON stored in PostgreSQL
  does not keep key order). Strings order by code point (JavaScript uses UTF-16 units).
- A malformed condition (anything :func:`validate_condition` rejects: unknown operator,
  wrong argument type, invalid or over-long regex, nesting or size over the limits) never
  matches: :func:`compile_condition` returns a function that always returns ``False``.

Run-time errors: a compiled condition never raises. If evaluation hits something
unexpected (say an attribute object whose ``__eq__`` raises), the whole condition returns
``False``, so a ``$not`` can never turn an error into a match. Callers that want to log such
cases should validate conditions when they are saved. Regexes run without a timeout, so
:func:`validate_condition` caps their length; review patterns for nested quantifiers.

:func:`compile_condition` builds nested closures once (regexes compiled, ``$in`` lists turned
into sets, saved groups looked up, so recompile when they change) and is the one to use on hot
paths; :func:`evaluate` is a plain interpreter over the condition dict that always agrees with
it (both evaluate a condition's entries in the same order, see ``validation.split_condition``).

The package is pure Python: no module in it imports Django. Its modules, each importing only
the ones listed before it:

- ``language``: operators, size limits, :class:`ConditionError`, type aliases.
- ``values``: what JSON values mean here (types, strict equality, membership, paths, versions).
- ``validation``: shape and size checks with located messages, and the order of evaluation.
- ``predicates``: the closures a compiled condition is made of (combinators, fast value tests).
- ``compiler``: :func:`compile_condition` and :func:`validate_condition` (validating is compiling
  without saved groups, so what validates is exactly what compiles).
- ``interpreter``: :func:`evaluate`.
"""

from personalization.conditions.compiler import compile_condition, validate_condition
from personalization.conditions.interpreter import evaluate
from personalization.conditions.language import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_REGEX_LENGTH,
    ConditionError,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_REGEX_LENGTH",
    "ConditionError",
    "compile_condition",
    "evaluate",
    "validate_condition",
]
