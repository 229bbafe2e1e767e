"""`manage.py rqworker events` for bench/ingest.py. With --without-goal-matching the experiments
app's `events_stored` receiver is disconnected: a what-if that shows the pipeline's own cost
apart from goal matching. Never used outside the benchmark."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.ingest_settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

if "--without-goal-matching" in sys.argv:
    from experiments.receivers import match_goals
    from personalization.events.signals import events_stored

    events_stored.disconnect(match_goals)
call_command("rqworker", "events")
