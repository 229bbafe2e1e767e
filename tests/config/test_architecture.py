"""The dependency rules of docs/architecture.md, as import-linter contracts (pyproject.toml):
kept by the code, complete, and able to fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("cms", "experiments", "personalization", "config")
APPS_ABOVE_THE_CORE = ("events", "privacy", "journeys")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    """lint-imports on the packages in `cwd` (first on the path, ahead of the editable install)."""
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def contract(contract_id: str) -> dict:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    return next(c for c in config["contracts"] if c.get("id") == contract_id)


def test_the_code_keeps_every_contract():
    run = lint_imports(REPO)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_the_core_contract_names_every_module_of_the_core():
    """A new module in personalization/ must be listed, or the rule would not cover it."""
    core = {
        f"personalization.{path.stem if path.is_file() else path.name}"
        for path in (REPO / "personalization").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    core -= {f"personalization.{app}" for app in APPS_ABOVE_THE_CORE}
    core -= {"personalization.migrations"}
    assert core == set(contract("core")["source_modules"])


@pytest.mark.parametrize(
    ("module", "bad_import", "broken"),
    [
        (
            "personalization/resolver.py",
            "import personalization.journeys.models",
            "core imports none",
        ),
        ("personalization/events/services.py", "import personalization.journeys", "journeys above"),
        (
            "personalization/privacy/views.py",
            "import personalization.events.models",
            "ignore each other",
        ),
        ("experiments/selectors.py", "import cms.models", "cms above experiments"),
        ("personalization/conditions/values.py", "import django.db", "import no django"),
        ("personalization/bounds.py", "import personalization.context", "no import cycles"),
    ],
)
def test_an_import_that_breaks_a_rule_fails(tmp_path, module, bad_import, broken):
    """On a copy of the code with one forbidden import added, lint-imports fails and names it."""
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{bad_import}  # noqa\n")
    run = lint_imports(tmp_path)
    assert run.returncode != 0, run.stdout[-3000:]
    broken_lines = [line.lower() for line in run.stdout.splitlines() if "BROKEN" in line]
    assert any(broken in line for line in broken_lines), run.stdout[-3000:]
