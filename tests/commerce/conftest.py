"""Commerce fixtures: the demo's admin (staff) as the shop's server."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def staff(db):
    """The demo's admin (staff, superuser): the shop's server holds its API token."""
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def empty_catalogue(db):
    """No products to start with: the tests' demo holds the demo shop's catalogue (49 products),
    and these tests count what the feed stores from nothing."""
    from personalization.commerce.models import Product

    Product.objects.all().delete()
