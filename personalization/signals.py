"""Signals other apps listen to (personalization imports neither cms nor experiments)."""

from django.dispatch import Signal

# Sent by the event job after an event is stored and folded into its visitor's rollups.
# kwargs: event, visitor. Experiments match goals into conversions here.
event_stored = Signal()

# Sent after an anonymous visitor has been merged into a member's visitor.
# kwargs: source, target. Experiments move assignments and exposures here.
visitors_merged = Signal()
