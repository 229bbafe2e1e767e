"""The conditions package holds together: one operator list, one-way imports, no Django."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import personalization.conditions
from personalization.conditions import compiler, interpreter
from personalization.conditions.language import (
    MEMBERSHIP_OPERATORS,
    ORDER,
    REGEX_OPERATORS,
    VALUE_OPERATORS,
    VERSION_ORDER,
)

PACKAGE_DIR = Path(personalization.conditions.__file__).parent
# Each module may import the standard library and the modules before it, nothing else.
LAYERS = ["language", "values", "validation", "predicates", "compiler", "interpreter"]


def test_compiler_and_interpreter_know_every_value_operator() -> None:
    """The language's operator list is exactly what each evaluator implements."""
    compiled = set(compiler._VALUE_COMPILERS) | set(ORDER)
    interpreted = (
        set(ORDER)
        | set(VERSION_ORDER)
        | set(REGEX_OPERATORS)
        | set(MEMBERSHIP_OPERATORS)
        | set(interpreter._EVAL_OTHER)
    )
    assert compiled == VALUE_OPERATORS
    assert interpreted == VALUE_OPERATORS


def _imported_modules(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports are not used in the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            names.add(node.module or "")
    return names


def test_modules_import_only_the_standard_library_and_earlier_modules() -> None:
    """No Django, no third-party code, no import cycles inside the package."""
    modules = sorted(p.stem for p in PACKAGE_DIR.glob("*.py") if p.stem != "__init__")
    assert modules == sorted(LAYERS), "add a new module to LAYERS, in its place"
    for index, module in enumerate(LAYERS):
        allowed = {f"personalization.conditions.{earlier}" for earlier in LAYERS[:index]}
        for name in _imported_modules(PACKAGE_DIR / f"{module}.py"):
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name in allowed, f"{module} imports {name}"
    for name in _imported_modules(PACKAGE_DIR / "__init__.py"):
        assert name.startswith("personalization.conditions."), f"__init__ imports {name}"
