"""`manage.py rqworker events --burst` that stops in the middle of its second batch, for the
crash test: the batch's rows are inserted but not committed when it writes the marker file (with
the id of the process holding the batch, RQ's work horse) and waits to be killed (kill -9)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from personalization.events import storing  # noqa: E402

marker = Path(sys.argv[1])
batches = []
store_for_real = storing._after_store


def store_then_hang(new, visitors):
    store_for_real(new, visitors)
    batches.append(len(new))
    if len(batches) == 2:
        marker.write_text(f"{batches[0]} {batches[1]} {os.getpid()}")
        time.sleep(600)


storing._after_store = store_then_hang
call_command("rqworker", "events", "--burst")
