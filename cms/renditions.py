"""Image renditions made safely by concurrent requests and workers on PostgreSQL.

Wagtail's `AbstractImage.create_renditions` inserts several renditions in one
`INSERT … ON CONFLICT DO NOTHING`, in the order its thread pool finished them
(`concurrent.futures.as_completed`), so two processes making the same renditions of one
image — two first views of a page, or a first view and the `warm_renditions` job — insert
the same unique keys in different orders. Each waits for a key the other holds and
PostgreSQL aborts one with `deadlock detected`, which reached the visitor as a 500 (seen in
`bench/fault.py`). The insertion order is Wagtail's, so the cure here is the one PostgreSQL
documents for deadlocks: retry the victim. Each attempt runs in its own savepoint (so a
caller's transaction survives the abort) and, after the other side committed, finds its
renditions already there.
"""

from __future__ import annotations

import functools
import logging
import time

from django.db import OperationalError, transaction

logger = logging.getLogger(__name__)

ATTEMPTS = 4
DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE


def is_deadlock(exc: BaseException) -> bool:
    """Whether `exc` is PostgreSQL aborting this transaction to break a deadlock."""
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == DEADLOCK_DETECTED or (
        getattr(getattr(cause, "diag", None), "sqlstate", None) == DEADLOCK_DETECTED
    )


def retrying_deadlocks(create_renditions):
    """Wrap `AbstractImage.create_renditions`: a deadlock victim tries again (up to
    `ATTEMPTS` times, a short pause between), anything else is raised as before."""

    @functools.wraps(create_renditions)
    def wrapper(self, *filters):
        if not filters:  # every rendition was found (Wagtail asks anyway): no savepoint
            return create_renditions(self, *filters)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    return create_renditions(self, *filters)
            except OperationalError as exc:
                if attempt == ATTEMPTS or not is_deadlock(exc):
                    raise
                logger.info(
                    "Renditions of image %s: deadlock with another process, attempt %d of %d",
                    self.pk,
                    attempt + 1,
                    ATTEMPTS,
                )
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    wrapper.retries_deadlocks = True
    return wrapper


def install() -> None:
    """Make the image model's `create_renditions` retry deadlocks (once per process)."""
    from wagtail.images import get_image_model

    image_model = get_image_model()
    if not getattr(image_model.create_renditions, "retries_deadlocks", False):
        image_model.create_renditions = retrying_deadlocks(image_model.create_renditions)
