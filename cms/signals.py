"""Signal receivers of the site app: they only hand work to jobs."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from wagtail.images import get_image_model

from cms.jobs import warm_renditions
from cms.models import ContentPage, HomePage, SectionPage
from config.jobs import enqueue
from experiments.signals import experiment_completed


@receiver(post_save, sender=get_image_model())
def image_saved(sender, instance, created: bool, **kwargs) -> None:
    """A new or replaced image gets its renditions made in the background."""
    if kwargs.get("raw"):
        return
    enqueue("default", warm_renditions, instance.pk)


def _winner_stream(raw_blocks: list[dict], key: str, winner: str) -> tuple[list[dict], bool]:
    """The stream with every experiment block for `key` replaced by the winner's blocks
    (nested streams included); and whether anything changed."""
    changed = False
    result = []
    for block in raw_blocks:
        value = block.get("value")
        if (
            block.get("type") == "experiment"
            and isinstance(value, dict)
            and value.get("experiment") == key
        ):
            variants = [v.get("value", v) for v in value.get("variants", [])]
            chosen = next((v for v in variants if v.get("variant") == winner), None)
            result.extend(chosen.get("content", []) if chosen else [])
            changed = True
            continue
        if isinstance(value, dict):
            value = dict(value)
            for field, inner in value.items():
                if isinstance(inner, list) and all(isinstance(i, dict) for i in inner):
                    value[field], inner_changed = _winner_nested(inner, key, winner)
                    changed = changed or inner_changed
            block = {**block, "value": value}
        result.append(block)
    return result, changed


def _winner_nested(items: list[dict], key: str, winner: str) -> tuple[list[dict], bool]:
    if all("type" in i for i in items):
        return _winner_stream(items, key, winner)
    changed = False
    out = []
    for item in items:  # a ListBlock: items are {"type": "item", "value": {...}} or raw dicts
        value = item.get("value", item)
        if isinstance(value, dict):
            value = dict(value)
            for field, inner in value.items():
                if isinstance(inner, list) and all(isinstance(i, dict) for i in inner):
                    value[field], inner_changed = _winner_nested(inner, key, winner)
                    changed = changed or inner_changed
        out.append({**item, "value": value} if "value" in item else value)
    return out, changed


@receiver(experiment_completed)
def adopt_winner(sender, experiment, winner, **kwargs) -> list:
    """Put the winner's content where the experiment ran, as new draft revisions to publish."""
    if winner is None:
        return []
    changed_pages = []
    for model in (HomePage, SectionPage, ContentPage):
        for page in model.objects.all():
            latest = page.get_latest_revision_as_object()
            body, changed = _winner_stream(list(latest.body.raw_data), experiment.key, winner.name)
            if changed:
                latest.body = body
                latest.save_revision(log_action=True)
                changed_pages.append(page)
    if winner.revision_id and experiment.page_id:
        page = winner.revision.as_object()
        page.save_revision(log_action=True)
        changed_pages.append(page)
    return changed_pages
