"""Signals of the event pipeline that other apps listen to (events imports none of them)."""

from django.dispatch import Signal

# Sent by the event job after an event is stored and folded into its visitor's rollups.
# kwargs: event, visitor.
event_stored = Signal()

# Sent once per stored batch, after `event_stored` for each of its events (same transaction).
# kwargs: stored, a list of (event, visitor). Experiments match goals into conversions here and
# journeys enter, cancel and convert entries, with a handful of queries per batch.
events_stored = Signal()
