"""Which revisions show the shop's products (`RevisionPersonalization.catalogue`): recorded when a
revision is saved, and marked by migration cms 0012 on databases recorded before it — the
migration's reading of the stored content agrees with the block walk on every demo revision."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from cms.models import HomePage, RevisionPersonalization, SectionPage
from cms.render_cache.usage import page_usage

pytestmark = pytest.mark.django_db

migration = importlib.import_module("cms.migrations.0012_revision_usage_catalogue")


def test_a_revision_with_a_product_list_is_recorded_as_showing_the_catalogue():
    shop = SectionPage.objects.get(slug="shop", locale__language_code="en")
    home = HomePage.objects.get(locale__language_code="en")
    assert RevisionPersonalization.objects.get(revision=shop.live_revision).catalogue is True
    assert RevisionPersonalization.objects.get(revision=home.live_revision).catalogue is False


def test_the_migration_marks_exactly_the_revisions_whose_blocks_show_products():
    rows = list(RevisionPersonalization.objects.select_related("revision"))
    assert rows
    expected = {row.pk: page_usage(row.revision.as_object()).catalogue for row in rows}
    assert any(expected.values()) and not all(expected.values())
    RevisionPersonalization.objects.update(catalogue=False)  # as recorded before the field

    migration.mark_product_lists(apps, None)

    marked = dict(RevisionPersonalization.objects.values_list("pk", "catalogue"))
    assert marked == expected
