"""API test fixtures: generous throttles (one test lowers them), staff and member clients."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

GENEROUS = {"visitor": "100000/minute", "ip": "100000/minute", "login": "100000/minute"}


@pytest.fixture(autouse=True)
def _generous_throttles(settings):
    """Tests call the API far faster than a person: rates are high unless a test lowers them."""
    settings.API_THROTTLE_RATES = dict(GENEROUS)


@pytest.fixture
def staff(db):
    """The demo's admin (staff, superuser)."""
    return get_user_model().objects.get(username="admin")
