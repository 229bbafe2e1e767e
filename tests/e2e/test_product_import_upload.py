"""The CSV import's upload form in a real browser: a file over the size limit is refused by the
form's script before anything is sent, with the server's own message; a file within it is sent
and checked.

Needs Debian's chromium (see tests/e2e/conftest.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

IMPORT = "/admin/personalization/products/import/"
HEADER = b"sku,name,category,pet_type,price,stock,url,active\n"


def test_a_file_over_the_limit_is_refused_before_it_is_sent(
    site, admin_page, db_turn, drain_jobs, settings, tmp_path
):
    from personalization.commerce.models import ImportStatus, ProductImport

    settings.COMMERCE_IMPORT_MAX_BYTES = 1024 * 1024  # the live server's thread shares settings
    settings.MEDIA_ROOT = tmp_path
    page = admin_page
    posts: list[str] = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    page.goto(site(IMPORT))
    error = page.locator("[data-import-too-large]")
    expect(error).to_be_hidden()

    big = HEADER + b"DOG-1,Dog food,dog-food,dog,100,3,,true\n" * 40_000  # 1.5 MB
    page.get_by_label("CSV file").set_input_files(
        {"name": "big.csv", "mimeType": "text/csv", "buffer": big}
    )
    message = (
        "The file is 1.5 MB; files of at most 1 MB can be imported. Split it into smaller files."
    )
    expect(error).to_have_text(message)
    page.get_by_role("button", name="Upload and check").click()
    expect(error).to_have_text(message)
    page.wait_for_timeout(500)
    assert posts == [] and page.url == site(IMPORT)
    with db_turn():
        assert not ProductImport.objects.exists()

    page.get_by_label("CSV file").set_input_files(
        {"name": "small.csv", "mimeType": "text/csv", "buffer": HEADER + b"DOG-1,Dog,,dog,1,1,,\n"}
    )
    expect(error).to_be_hidden()
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_url(re.compile(r".*/import/\d+/$"))
    assert posts == [site(IMPORT)]
    drain_jobs()
    with db_turn():
        product_import = ProductImport.objects.get()
    assert (product_import.original_name, product_import.status) == (
        "small.csv",
        ImportStatus.CHECKED,
    )
