"""A newcomer's fresh clone: `make test` needs nothing beside the checkout, and the browser tests
are left out (with one line saying how to run them) outside CI on a machine without chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import DEFAULT_CHROMIUM

REPO = Path(__file__).resolve().parents[2]
NOT_PROJECT_FILES = {
    ".git",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "node_modules",
    "var",
    "build",
}
# Ways a file can reach for the folder beside the checkout (written so they do not match
# themselves): a path up and into it, its absolute path, or a path joined with its name.
READS_BESIDE_THE_CHECKOUT = re.compile(
    r"""\.\.[/\\]+shared\b|/work[/]shared\b|[/,(]\s*["']shared["']"""
)


def _project_files(root: Path) -> Iterator[Path]:
    """Every file of the project under `root`, outside .git, the venv and generated folders."""
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [
            name
            for name in subfolders
            if name not in NOT_PROJECT_FILES and not name.endswith(".egg-info")
        ]
        for name in files:
            yield Path(folder) / name


def _text(path: Path) -> str | None:
    """The file's text, or None for a binary file (images, databases)."""
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None


def _pytest(cwd: Path, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    """Run pytest in a fresh process in `cwd`, with `env` changes (None removes a variable)."""
    environ = dict(os.environ)
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_no_project_file_reads_the_folder_beside_the_checkout():
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in _project_files(REPO)
        if (text := _text(path)) is not None
        for number, line in enumerate(text.splitlines(), start=1)
        if READS_BESIDE_THE_CHECKOUT.search(line)
    ]
    assert offenders == []


def test_a_copy_of_the_checkout_collects_every_test_with_nothing_beside_it(tmp_path):
    checkout = tmp_path / "checkout"
    for path in _project_files(REPO):
        target = checkout / path.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    assert [path.name for path in tmp_path.iterdir()] == ["checkout"]  # nothing beside it

    result = _pytest(checkout, "--collect-only", "-q", "tests")

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    collected = re.search(r"^\d+(/\d+)? tests collected", result.stdout, re.MULTILINE)
    assert collected, result.stdout[-500:]
    assert "tests/conformance/test_conditions.py::" in result.stdout


# BROWSER TESTS WITHOUT CHROMIUM
# ------------------------------------------------------------------------------

BROWSER_TESTS = """
def test_needs_no_browser():
    assert True


def test_opens_a_page_in_chromium(browser):
    page = browser.new_page()
    page.set_content("<p>Hello</p>")
    assert page.text_content("p") == "Hello"
"""


@pytest.fixture
def browser_project(tmp_path) -> Path:
    """A tiny project using the real browser fixture and hooks of tests/e2e/conftest.py."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(
        "from tests.e2e.conftest import (  # noqa: F401\n"
        "    browser, pytest_collection_modifyitems, pytest_terminal_summary,\n"
        ")\n"
    )
    (tmp_path / "test_pages.py").write_text(BROWSER_TESTS)
    return tmp_path


def _run_browser_project(project: Path, **env: str | None) -> subprocess.CompletedProcess[str]:
    return _pytest(project, "-p", "no:django", PYTHONPATH=str(REPO), **env)


def _hint_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "apt-get install chromium" in line]


def test_outside_ci_without_chromium_browser_tests_are_deselected_with_one_line(browser_project):
    missing = browser_project / "no-chromium-here"

    result = _run_browser_project(browser_project, CI=None, CHROMIUM_PATH=str(missing))

    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 deselected" in result.stdout
    assert _hint_lines(result.stdout) == [
        f"1 browser test was deselected: no chromium at {missing}. To run them: "
        "apt-get install chromium (with CI set they are required)."
    ]


def test_in_ci_without_chromium_browser_tests_fail(browser_project):
    missing = browser_project / "no-chromium-here"

    result = _run_browser_project(browser_project, CI="1", CHROMIUM_PATH=str(missing))

    assert result.returncode == 1, result.stdout
    assert "1 passed, 1 error" in result.stdout
    assert "deselected" not in result.stdout
    assert _hint_lines(result.stdout) == []


@pytest.mark.skipif(not os.access(DEFAULT_CHROMIUM, os.X_OK), reason="needs Debian's chromium")
def test_outside_ci_with_chromium_browser_tests_run(browser_project):
    result = _run_browser_project(browser_project, CI=None, CHROMIUM_PATH=None)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert _hint_lines(result.stdout) == []
