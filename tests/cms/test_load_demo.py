"""`manage.py load_demo` is idempotent: a second run adds nothing and keeps editors' changes."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from wagtail.images import get_image_model
from wagtail.models import Page, PageViewRestriction

from cms.models import ContentPage

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        "pages": Page.objects.count(),
        "users": get_user_model().objects.count(),
        "images": get_image_model().objects.count(),
        "restrictions": PageViewRestriction.objects.count(),
    }


def test_running_load_demo_again_creates_no_duplicates():
    before = counts()  # the session fixture already ran it once
    out = io.StringIO()
    call_command("load_demo", "--no-progress", stdout=out)
    assert counts() == before
    assert "Demo site ready." in out.getvalue()


def test_load_demo_keeps_what_an_editor_changed():
    page = ContentPage.objects.get(slug="puppy-starter-kit")
    page.title = "Puppy starter kit (edited)"
    page.save_revision().publish()
    call_command("load_demo", "--no-progress", stdout=io.StringIO())
    assert ContentPage.objects.get(slug="puppy-starter-kit").title == "Puppy starter kit (edited)"


def test_demo_members_have_varied_profiles():
    users = (
        get_user_model().objects.filter(username__endswith="@example.com").select_related("profile")
    )
    profiles = [u.profile for u in users if hasattr(u, "profile")]
    assert len(profiles) >= 5
    assert len({p.region for p in profiles}) >= 3
    assert {p.pet_type for p in profiles} >= {"dog", "cat"}
    assert len({p.tier for p in profiles}) >= 3


def test_load_demo_shows_a_progress_bar_by_default():
    err = io.StringIO()
    call_command("load_demo", stdout=io.StringIO(), stderr=err)
    assert "Demo site" in err.getvalue() and "100%" in err.getvalue()
