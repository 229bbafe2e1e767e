"""Concurrent rendition creation on PostgreSQL: two processes making the same renditions of an
image in different orders (a page's first view and the `warm_renditions` job) must both get
their renditions, never `deadlock detected` (a 500 in `bench/fault.py` before the fix)."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.files.images import ImageFile
from django.db import connection, connections
from PIL import Image as PillowImage
from wagtail.images import get_image_model
from wagtail.images.models import Filter

from cms.jobs import WARM_RENDITION_SPECS

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (.ci/run)"),
]

SLOW_INSERTS = """
CREATE FUNCTION test_slow_rendition_insert() RETURNS trigger AS $$
BEGIN PERFORM pg_sleep(0.03); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER test_slow_rendition_insert BEFORE INSERT ON wagtailimages_rendition
FOR EACH ROW EXECUTE FUNCTION test_slow_rendition_insert();
"""
FAST_INSERTS = """
DROP TRIGGER IF EXISTS test_slow_rendition_insert ON wagtailimages_rendition;
DROP FUNCTION IF EXISTS test_slow_rendition_insert();
"""


@pytest.fixture
def slow_rendition_inserts():
    """Each rendition row takes 30 ms to insert, so two multi-row inserts overlap for sure
    (the window a busy production database opens by itself)."""
    with connection.cursor() as cursor:
        cursor.execute(FAST_INSERTS)
        cursor.execute(SLOW_INSERTS)
    yield
    with connection.cursor() as cursor:
        cursor.execute(FAST_INSERTS)


def an_image(title: str):
    buffer = io.BytesIO()
    PillowImage.new("RGB", (480, 320), "olive").save(buffer, "PNG")
    return get_image_model().objects.create(
        title=title, file=ImageFile(buffer, name=f"{title}.png")
    )


def make_at_once(image, orders: list[tuple[str, ...]]) -> list[BaseException]:
    """Create `image`'s renditions from one thread per filter order, started together; the
    errors they raised."""
    start = threading.Barrier(len(orders))
    errors: list[BaseException] = []

    def make(specs: tuple[str, ...]) -> None:
        try:
            fresh = get_image_model().objects.get(pk=image.pk)
            start.wait()
            fresh.create_renditions(*(Filter(spec=spec) for spec in specs))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=make, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_two_processes_making_the_same_renditions_in_opposite_orders_both_succeed(
    slow_rendition_inserts,
):
    forward = tuple(WARM_RENDITION_SPECS)
    for round_ in range(3):
        image = an_image(f"deadlock-{round_}")
        errors = make_at_once(image, [forward, tuple(reversed(forward))])
        assert errors == []
        assert sorted(image.renditions.values_list("filter_spec", flat=True)) == sorted(forward)
