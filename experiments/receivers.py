"""Receivers: goals into conversions, merges of visitors, registry freshness, and which page
revisions use which experiment."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Revision
from wagtail.signals import page_published

from experiments.models import Experiment, Goal, Variant
from experiments.recording import conversions_for_events, visitor_experiments_merge
from experiments.registry import bump_registry
from experiments.usage import usage_record
from personalization.events.signals import events_stored
from personalization.signals import visitors_merged


@receiver(events_stored)
def match_goals(sender, stored, **kwargs) -> None:
    """A stored event may reach the goal of an experiment its visitor was exposed to."""
    conversions_for_events(stored=stored)


@receiver(visitors_merged)
def merge_experiments(sender, source, target, **kwargs) -> None:
    visitor_experiments_merge(source=source, target=target)


@receiver([post_save, post_delete], sender=Experiment)
@receiver([post_save, post_delete], sender=Variant)
@receiver([post_save, post_delete], sender=Goal)
def experiments_changed(sender, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    bump_registry()
    transaction.on_commit(bump_registry)


@receiver(m2m_changed, sender=Experiment.target_segments.through)
def targeting_changed(sender, **kwargs) -> None:
    bump_registry()
    transaction.on_commit(bump_registry)


@receiver(post_save, sender=Revision)
def revision_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    """A saved page revision (draft, autosave, or about to be published) records its A/B blocks."""
    if not raw:
        usage_record(revision=instance)


@receiver(page_published)
def page_published_usage(sender, instance, revision, **kwargs) -> None:
    """Publishing a revision saved before usage was recorded records it now (idempotent)."""
    if revision is not None:
        usage_record(revision=revision)
