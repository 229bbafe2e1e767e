"""Commerce fixtures: the demo's admin (staff) as the shop's server, an empty catalogue, and a
database that refuses one SKU."""

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


@pytest.fixture
def refuse_sku(db):
    """`refuse_sku("SKU-1")`: from now on the database itself refuses to store a product with
    that SKU, with an error naming `test_refused` (a CHECK constraint on PostgreSQL, a trigger
    on SQLite, which cannot add a constraint to a table); undone with the test's rollback."""
    from django.db import connection

    def refuse(sku: str) -> None:
        assert sku.replace("-", "").isalnum()  # spelled into the SQL below
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                for event in ("INSERT", "UPDATE"):
                    cursor.execute(
                        f"CREATE TRIGGER test_refused_{event.lower()} BEFORE {event} "
                        f"ON commerce_product WHEN NEW.sku = '{sku}' "
                        "BEGIN SELECT RAISE(ABORT, 'test_refused'); END"
                    )
            else:
                cursor.execute(
                    "ALTER TABLE commerce_product "
                    f"ADD CONSTRAINT test_refused CHECK (sku <> '{sku}')"
                )

    return refuse
