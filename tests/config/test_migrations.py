"""Every model change ships with its migration: a clone's `migrate` builds the schema the code
expects, and `makemigrations --check` in CI stays quiet."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_every_model_change_has_its_migration():
    output = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=output, stderr=output)
    except SystemExit as exit_:
        pytest.fail(f"models changed without a migration (exit {exit_.code}):\n{output.getvalue()}")
    assert "No changes detected" in output.getvalue()
