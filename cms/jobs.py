"""Background jobs of the site. Each takes ids, loads, and does its work (safe to retry)."""

from __future__ import annotations

import logging

from wagtail.images import get_image_model

logger = logging.getLogger(__name__)

# The renditions the site's templates ask for; made ahead of the first visitor who needs them.
WARM_RENDITION_SPECS = (
    "fill-400x250",
    "fill-800x500",
    "fill-720x405",
    "fill-1440x810",
    "width-480",
    "width-960",
)


def warm_renditions(image_id: int) -> int:
    """Create the usual renditions of an image so the first page view does not pay for them."""
    image = get_image_model().objects.filter(pk=image_id).first()
    if image is None:
        logger.info("Image %s was deleted before its renditions were made", image_id)
        return 0
    renditions = image.get_renditions(*WARM_RENDITION_SPECS)
    return len(renditions)


def record_revision_usage(revision_id: int) -> bool:
    """Record what a page revision depends on (for one saved before the record existed)."""
    from wagtail.models import Revision

    from cms.render_cache.usage import usage_record  # noqa: PLC0415

    revision = Revision.objects.filter(pk=revision_id).first()
    return revision is not None and usage_record(revision=revision) is not None
