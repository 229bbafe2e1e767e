"""Recreating the bench page in a baseline project from the spec bench/pages.py writes (JSON):
the same images (the original files of the project's bench images), the same top navigation and
the same body, block by block, with image ids and the call-to-action's page link mapped to this
project's objects.

Spec: {"images": {id: {"title", "file"}}, "nav": [{"title", "slug"}],
       "plain": {"title", "slug", "intro"}, "personalized": {"title", "slug", "intro"},
       "default": [blocks], "rest": [blocks], "variants": [{"segment", "content": [blocks]}]}
Blocks are the project's stream data; an image block's "image" is a spec image id and a link's
"page" is "home".
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.files.images import ImageFile
from wagtail.images import get_image_model
from wagtail.models import Page, Site


def load_spec(path: str) -> dict:
    return json.loads(Path(path).read_text())


def home() -> Page:
    """The site's root page: the one `wagtail start` creates and the default Site serves."""
    return Site.objects.get(is_default_site=True).root_page.specific


def create_images(spec: dict) -> dict[str, int]:
    """The spec's images from the same files; spec image id → this project's image id."""
    model = get_image_model()
    ids = {}
    for spec_id, image in spec["images"].items():
        with Path(image["file"]).open("rb") as handle:
            created = model(title=image["title"], file=ImageFile(handle, Path(image["file"]).name))
            created.save()
        ids[spec_id] = created.pk
    return ids


def map_blocks(blocks: list[dict], images: dict[str, int], home_page: Page) -> list[dict]:
    """The project's stream data with this project's image and page ids."""

    def convert(value, key=None):
        if isinstance(value, dict):
            return {k: convert(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        if key == "image" and value is not None:
            return images[str(value)]
        if key == "page" and value == "home":
            return home_page.pk
        return value

    return [{"type": block["type"], "value": convert(block["value"])} for block in blocks]


def publish(parent: Page, page: Page) -> Page:
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def create_nav(spec: dict, page_model, home_page: Page) -> None:
    """The top navigation's pages (empty pages of the bench model, shown in menus)."""
    for item in spec["nav"]:
        publish(home_page, page_model(title=item["title"], slug=item["slug"], show_in_menus=True))
