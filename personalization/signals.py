"""Signals of the core that other apps listen to (the core imports none of them)."""

from django.dispatch import Signal

# Sent inside the transaction that merges an anonymous visitor into a member's visitor, before
# the source is marked merged. kwargs: source, target. Events move their rows here, experiments
# their assignments and exposures.
visitors_merged = Signal()
