"""Signals other apps listen to (personalization imports neither cms nor experiments)."""

from django.dispatch import Signal

# Sent by the event job after an event is stored and folded into its visitor's rollups.
# kwargs: event, visitor.
event_stored = Signal()

# Sent once per stored batch, after `event_stored` for each of its events (same transaction).
# kwargs: stored, a list of (event, visitor). Experiments match goals into conversions here,
# with a handful of queries per batch rather than per event.
events_stored = Signal()

# Sent after an anonymous visitor has been merged into a member's visitor.
# kwargs: source, target. Experiments move assignments and exposures here.
visitors_merged = Signal()
