"""The Japanese site for the tests of both languages: the session's demo site is the English one
(DEMO_LANGUAGES in the test settings); each test here adds its Japanese translation, as
`load_demo` does for `make run`, inside its own transaction."""

from __future__ import annotations

import pytest

from cms.demo import ensure_home, ensure_japanese_site


@pytest.fixture
def japanese_site(db):
    """The Japanese home page (its pages, translations of the English demo pages, under /ja/)."""
    return ensure_japanese_site(ensure_home())
