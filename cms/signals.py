"""Signal receivers of the site app: they only hand work to jobs."""

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.images import get_image_model
from wagtail.models import Page, PageViewRestriction, Revision, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from cms.jobs import warm_renditions
from cms.models import ContentPage, HomePage, SectionPage
from cms.render_cache.store import bump_generation
from cms.render_cache.usage import usage_record
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


# RENDER CACHE: WHAT A REVISION USES, AND WHEN EVERY RENDER IS STALE
# ------------------------------------------------------------------------------


@receiver(post_save, sender=Revision)
def record_revision_usage(sender, instance, raw: bool = False, **kwargs) -> None:
    """A saved page revision records the segments, experiments and holes it uses."""
    if not raw:
        usage_record(revision=instance)


@receiver(page_published)
def page_published_render(sender, instance, revision, **kwargs) -> None:
    if revision is not None:
        usage_record(revision=revision)
    _content_changed()


@receiver(page_unpublished)
@receiver(post_page_move)
def page_changed(sender, **kwargs) -> None:
    _content_changed()


@receiver(post_delete, sender=Page)
@receiver([post_save, post_delete], sender=PageViewRestriction)
@receiver([post_save, post_delete], sender=get_image_model())
@receiver([post_save, post_delete], sender=Site)
def content_changed(sender, **kwargs) -> None:
    if not kwargs.get("raw"):
        _content_changed()


@receiver(post_save)
def page_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    """A live page changed in place (code, not the editor's publish, which is handled above)."""
    if not raw and isinstance(instance, Page) and instance.live:
        _content_changed()


def _content_changed() -> None:
    """Every cached render is stale: now, and again once the change is committed (a request
    in between may have cached what was about to change)."""
    bump_generation()
    transaction.on_commit(bump_generation)


@receiver(user_logged_in)
def note_admin_access(sender, request, user, **kwargs) -> None:
    """Editors are never served from the render cache (the user bar is theirs alone); noting
    their admin access in the session lets the cache tell without a query."""
    if request is not None and hasattr(request, "session"):
        request.session["cms_admin_access"] = user.has_perm("wagtailadmin.access_admin")
