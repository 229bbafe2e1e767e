"""Signals of the experiments app."""

from django.dispatch import Signal

# Sent when an experiment is completed. kwargs: experiment, winner (Variant or None).
# The cms app replaces experiment blocks by the winner's content in a new draft revision.
experiment_completed = Signal()
