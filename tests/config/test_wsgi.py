"""The WSGI module leaves a web process's start-up objects out of the garbage collector's scans."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc
import config.wsgi
frozen = gc.get_freeze_count()
gc.collect()
print(frozen, gc.get_freeze_count(), len(gc.get_objects()))
"""


def test_loading_the_wsgi_application_freezes_what_it_loaded():
    """Django, Wagtail, DRF and every URLconf's views are loaded and frozen before the first
    request: a full collection then walks only what requests made, not ~230,000 objects
    (a ~115 ms pause on this machine, which some request would have waited out)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    frozen, still_frozen, tracked = map(int, result.stdout.split())
    assert frozen > 100_000  # the framework and the project's views, not a handful
    assert still_frozen == frozen  # a collection does not thaw them
    assert tracked < frozen // 10  # what is left for the collector to walk is small
