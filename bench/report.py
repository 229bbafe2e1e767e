"""Writing benchmark results into docs/benchmarks.md, one marked section per benchmark, so each
script rewrites only its own figures."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

HEADER = """# Benchmarks

Every figure here is written by a script in `bench/`; each section names the command that
produced it. `make bench` runs them all. Numbers are from the machine described under each table.
"""


def machine_description() -> str:
    """One line: CPU count, CPU model, Python, date."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"Machine: {os.cpu_count()} CPU cores ({model or platform.processor() or 'unknown'}), "
        f"Python {platform.python_version()}, {platform.system()}; measured "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC."
    )


def write_section(path: Path, key: str, title: str, lines: list[str]) -> None:
    """Replace (or append) the section `key` of the Markdown file at `path`."""
    start, end = f"<!-- bench:{key}:start -->", f"<!-- bench:{key}:end -->"
    block = "\n".join([start, f"## {title}", "", *lines, end])
    text = path.read_text() if path.exists() else HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
