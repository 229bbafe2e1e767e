"""Editors import products from a CSV file in the admin (Personalization → Products → Import
CSV): a dry run reports what would change and every problem by line and column; applying
changes every row or none, with the feed's history rows and `products_changed`; the progress
bar reads a count written outside the apply's transaction."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from wagtail.users.models import UserProfile

from personalization.commerce.models import ImportStatus, Product, ProductChange, ProductImport
from personalization.commerce.signals import products_changed
from tests.config.test_japanese_admin import untranslated

pytestmark = pytest.mark.django_db
LIST = "/admin/personalization/products/"
IMPORT = LIST + "import/"
HEADER = "sku,name,category,pet_type,price,stock,url,active"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.get(username="admin")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client.force_login(user)
    return client


@pytest.fixture
def changes():
    """Every `products_changed` sent during the test: its change ids."""
    sent: list[list[int]] = []

    def receiver(sender, change_ids, **kwargs):
        sent.append(list(change_ids))

    products_changed.connect(receiver, weak=False)
    yield sent
    products_changed.disconnect(receiver)


def upload(client, run_jobs, content: bytes | str, name: str = "products.csv") -> ProductImport:
    """Upload a file and run its dry run (the queued job); the import, as stored."""
    if isinstance(content, str):
        content = content.encode()
    with run_jobs():
        response = client.post(IMPORT, {"file": SimpleUploadedFile(name, content, "text/csv")})
    assert response.status_code == 302, response.content.decode()[-2000:]
    product_import = ProductImport.objects.latest("pk")
    assert response["Location"] == f"{IMPORT}{product_import.pk}/"
    return product_import


def apply(client, run_jobs, product_import: ProductImport) -> ProductImport:
    with run_jobs():
        response = client.post(f"{IMPORT}{product_import.pk}/apply/")
    assert response.status_code == 302
    product_import.refresh_from_db()
    return product_import


def catalogue() -> tuple[int, int]:
    return Product.objects.count(), ProductChange.objects.count()


GOOD = (
    "\ufeff" + HEADER + "\r\n"
    "DOG-1,Dog food,dog-food,dog,11800,5,https://shop.example.jp/dog-1,true\r\n"
    'CAT-9,"Cat tower, large",cat-toys,cat,9800,3,,1\r\n'
    "BIRD-1,小鳥のえさ,bird-food,other,450,40,https://shop.example.jp/bird-1,yes\r\n"
    "ANY-1,Pet shampoo,grooming,any,1200,12,https://shop.example.jp/any-1,false\r\n"
)


def test_a_file_is_checked_then_applied_with_history_and_the_signal(
    admin_client, run_jobs, django_capture_on_commit_callbacks, changes
):
    Product.objects.create(
        sku="DOG-1", name="Dog food", category="dog-food", pet_type="dog", price=12800, stock=5,
        url="https://shop.example.jp/dog-1",
    )  # fmt: skip
    Product.objects.create(
        sku="ANY-1", name="Pet shampoo", category="grooming", price=1200, stock=12,
        url="https://shop.example.jp/any-1", active=False,
    )  # fmt: skip
    before = catalogue()
    checked = upload(admin_client, run_jobs, GOOD)

    assert checked.status == ImportStatus.CHECKED
    assert (checked.report["created"], checked.report["updated"], checked.report["unchanged"]) == (
        2, 1, 1,
    )  # fmt: skip
    assert checked.report["error_count"] == 0 and checked.total_rows == 4
    assert catalogue() == before  # a dry run changes nothing
    page = admin_client.get(f"{IMPORT}{checked.pk}/").content.decode()
    assert 'data-count="created">2<' in page and 'data-count="updated">1<' in page
    assert f'action="{IMPORT}{checked.pk}/apply/"' in page

    with django_capture_on_commit_callbacks(execute=True):
        applied = apply(admin_client, run_jobs, checked)
    assert applied.status == ImportStatus.APPLIED and applied.applied_at is not None
    assert applied.report["applied"] == {"created": 2, "updated": 1, "unchanged": 1}
    assert applied.processed_rows == applied.total_rows == 4
    cat = Product.objects.get(sku="CAT-9")
    assert (cat.name, cat.pet_type, cat.price, cat.stock, cat.url, cat.active) == (
        "Cat tower, large", "cat", 9800, 3, "", True,
    )  # fmt: skip
    assert Product.objects.get(sku="BIRD-1").name == "小鳥のえさ"
    assert Product.objects.get(sku="DOG-1").price == 11800
    history = {
        (change.product.sku, change.price, change.stock)
        for change in ProductChange.objects.filter(pk__in=sum(changes, []))
    }
    assert history == {("DOG-1", 11800, 5), ("CAT-9", 9800, 3), ("BIRD-1", 450, 40)}
    assert "Imported" in admin_client.get(f"{IMPORT}{checked.pk}/").content.decode()

    # The same file again: every row unchanged, and applying it writes no history.
    again = upload(admin_client, run_jobs, GOOD)
    assert (again.report["created"], again.report["updated"], again.report["unchanged"]) == (
        0, 0, 4,
    )  # fmt: skip
    after = catalogue()
    sent = len(changes)
    with django_capture_on_commit_callbacks(execute=True):
        assert apply(admin_client, run_jobs, again).status == ImportStatus.APPLIED
    assert catalogue() == after and len(changes) == sent
    listing = admin_client.get(IMPORT).content.decode()
    assert listing.count("products.csv") == 2  # the past imports


def test_columns_may_be_left_out_and_keep_each_value(admin_client, run_jobs):
    Product.objects.create(sku="DOG-1", name="Dog food", category="dog-food", price=1, stock=5)
    checked = upload(admin_client, run_jobs, "stock,sku,name,price\n7,DOG-1,Dog food,1\n")
    assert checked.status == ImportStatus.CHECKED and checked.report["updated"] == 1
    apply(admin_client, run_jobs, checked)
    dog = Product.objects.get(sku="DOG-1")
    assert (dog.stock, dog.category, dog.active) == (7, "dog-food", True)


BAD = {
    "wrong columns": (
        "sku,title,price,stock,colour\nDOG-1,Dog food,100,1,red\n",
        None,
        ["Unknown columns: title, colour.", "Missing columns: name."],
    ),
    "bad numbers": (
        f"{HEADER}\nDOG-1,Dog food,,dog,12.5,3,,\nDOG-2,Dog toy,,dog,-5,x,,\n"
        "DOG-3,Dog bed,,dog,¥1,280,1,,\n",
        [
            (2, "price", "A valid integer is required."),
            (3, "price", "Ensure this value is greater than or equal to 0."),
            (3, "stock", "A valid integer is required."),
            (4, "", "This row has 9 cells; the header has 8."),
        ],
        None,
    ),
    "duplicate SKUs": (
        f"{HEADER}\nDOG-1,Dog food,,dog,100,3,,\nCAT-1,Cat food,,cat,100,3,,\n"
        "DOG-1,Dog food again,,dog,200,3,,\n",
        [(4, "sku", "This SKU is already on line 2.")],
        None,
    ),
    "bad values": (
        f"{HEADER}\n,Nameless,,dog,100,3,,\nDOG-2,Dog,Dog Food!,fish,100,3,not a url,maybe\n",
        [
            (2, "sku", "This field is required."),
            (3, "category", "letters, numbers, underscores or hyphens"),
            (3, "pet_type", '"fish" is not a valid choice.'),
            (3, "url", "Enter a valid URL."),
            (3, "active", "Must be a valid boolean."),
        ],
        None,
    ),
    "non-UTF-8": (
        f"{HEADER}\nDOG-1,Dog food,,dog,100,3,,\n".encode()
        + "CAT-1,猫,,cat,100,3,,\n".encode("shift_jis"),
        None,
        ["Line 3 is not UTF-8 text."],
    ),
    "empty": ("\r\n", None, ["The file is empty"]),
    "header only": (HEADER + "\n", None, ["The file has a header row but no products."]),
    "broken quotes": (
        f'{HEADER}\nDOG-1,"Dog "food",,dog,100,3,,\n',
        None,
        ["Line 2 cannot be read as CSV"],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_file_gets_a_clear_report_and_cannot_be_applied(admin_client, run_jobs, case):
    content, rows, messages = BAD[case]
    before = catalogue()
    checked = upload(admin_client, run_jobs, content)

    assert checked.status == ImportStatus.INVALID
    report = checked.report
    if rows is not None:
        found = [(e["line"], e["column"], e["message"]) for e in report["errors"]]
        assert len(found) == len(rows) == report["error_count"]
        for (line, column, message), (got_line, got_column, got_message) in zip(
            rows, found, strict=True
        ):
            assert (got_line, got_column) == (line, column)
            assert message in got_message
    for message in messages or []:
        assert message in report["message"]
    page = admin_client.get(f"{IMPORT}{checked.pk}/").content.decode()
    assert "/apply/" not in page and "Upload a corrected file" in page
    for message in messages or []:
        assert message in page.replace("&quot;", '"')

    assert apply(admin_client, run_jobs, checked).status == ImportStatus.INVALID
    assert catalogue() == before


def test_a_file_over_the_size_limit_is_refused_unread(admin_client, run_jobs):
    """A 50 MB file (the limit is 20 MB) is refused by the upload form: nothing is stored."""
    row = b"DOG-1,Dog food,dog-food,dog,100,3,https://shop.example.jp/items/dog-1,true\n"
    content = (HEADER + "\n").encode() + row * (50 * 1024 * 1024 // len(row) + 1)
    with run_jobs():
        response = admin_client.post(IMPORT, {"file": SimpleUploadedFile("big.csv", content)})
    assert response.status_code == 400
    assert "The file is 50.0 MB; files of at most 20 MB can be imported" in (
        response.content.decode()
    )
    assert not ProductImport.objects.exists()


def test_the_error_list_is_capped_but_every_error_counted(admin_client, run_jobs, settings):
    settings.COMMERCE_IMPORT_MAX_ERRORS = 5
    rows = "".join(f"SKU-{n},Name,,dog,-1,1,,\n" for n in range(12))
    checked = upload(admin_client, run_jobs, f"{HEADER}\n{rows}")
    assert checked.report["error_count"] == 12 and len(checked.report["errors"]) == 5
    page = admin_client.get(f"{IMPORT}{checked.pk}/").content.decode()
    assert "And 7 more errors not listed." in page


def test_a_failure_half_way_through_the_apply_leaves_nothing(
    admin_client, run_jobs, changes, refuse_sku
):
    """The database refuses a row of the second chunk (a constraint this test adds after the dry
    run): the first thousand rows, written already, are rolled back with it."""
    rows = "".join(f"SKU-{n:04d},Product {n},,dog,{n},1,,\n" for n in range(1500))
    checked = upload(admin_client, run_jobs, f"{HEADER}\n{rows}")
    assert checked.status == ImportStatus.CHECKED and checked.report["created"] == 1500
    before = catalogue()
    refuse_sku("SKU-1200")
    failed = apply(admin_client, run_jobs, checked)

    assert failed.status == ImportStatus.FAILED
    assert "Nothing was imported" in failed.report["failure"]
    assert "test_refused" in failed.report["failure"]
    assert catalogue() == before and changes == []
    page = admin_client.get(f"{IMPORT}{checked.pk}/").content.decode()
    assert "Nothing was imported" in page


def denied(response) -> None:
    """Wagtail's answer to a permission error: back to the dashboard (with a message)."""
    assert (response.status_code, response["Location"]) == (302, "/admin/")


def test_only_editors_who_may_change_products_import(client, run_jobs):
    editors, _ = Group.objects.get_or_create(name="Editors")  # Wagtail's, without product rights
    user = get_user_model().objects.create_user(username="ed", email="ed@example.com")
    user.groups.add(editors)
    other = ProductImport.objects.create(file=SimpleUploadedFile("x.csv", b"x"), original_name="x")
    client.force_login(user)
    for url in (IMPORT, f"{IMPORT}{other.pk}/", f"{IMPORT}{other.pk}/status/"):
        denied(client.get(url))
    for url in (IMPORT, f"{IMPORT}{other.pk}/apply/"):
        denied(client.post(url))
    assert ProductImport.objects.get(pk=other.pk).status == ImportStatus.CHECKING

    viewer = Permission.objects.get(codename="view_product", content_type__app_label="commerce")
    user.user_permissions.add(viewer)
    user = get_user_model().objects.get(pk=user.pk)
    client.force_login(user)
    listing = client.get(LIST)
    assert listing.status_code == 200 and IMPORT not in listing.content.decode()
    denied(client.get(IMPORT))

    changer = Permission.objects.get(codename="change_product", content_type__app_label="commerce")
    user.user_permissions.add(changer)
    client.force_login(get_user_model().objects.get(pk=user.pk))
    assert IMPORT in client.get(LIST).content.decode()
    assert client.get(IMPORT).status_code == 200


def test_the_import_pages_are_in_japanese(admin_client, run_jobs):
    user = get_user_model().objects.get(username="admin")
    checked = upload(admin_client, run_jobs, f"{HEADER}\nDOG-1,Dog food,,dog,-1,1,,\n")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "ja"
    profile.save()
    for url in (IMPORT, f"{IMPORT}{checked.pk}/", LIST):
        html = admin_client.get(url).content.decode()
        assert untranslated(html) == [], url
    assert "CSV インポート" in admin_client.get(LIST).content.decode()


# PROGRESS, SEEN FROM ANOTHER CONNECTION WHILE THE APPLY'S TRANSACTION IS OPEN
# ------------------------------------------------------------------------------


@pytest.mark.skipif(
    "postgres" not in settings.DATABASES["default"]["ENGINE"], reason="PostgreSQL row locks"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_progress_is_visible_while_the_apply_runs(run_jobs, changes):
    """Another connection holds a lock on a product of the second chunk, so the apply (a real
    RQ worker with Redis) waits there after its first chunk: meanwhile the status endpoint
    says 1,000 of 2,500 rows while not one new product is visible yet."""
    # Its own editor: a transactional test starts from the migrated database, without the demo.
    admin = get_user_model().objects.create_superuser("importer", "importer@example.com", "x")
    client = Client()
    client.force_login(admin)
    Product.objects.create(sku="SKU-1500", name="Held", price=1, stock=1)
    products, sent = Product.objects.count(), len(changes)
    rows = "".join(f"SKU-{n:04d},Product {n},,dog,{n + 10},1,,\n" for n in range(2500))
    checked = upload(client, run_jobs, f"{HEADER}\n{rows}")
    assert checked.status == ImportStatus.CHECKED and checked.report["created"] == 2499
    status_url = f"{IMPORT}{checked.pk}/status/"
    seen: dict = {}
    locked = threading.Event()

    def watcher():
        try:
            with transaction.atomic():
                Product.objects.select_for_update().get(sku="SKU-1500")
                locked.set()
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    state = client.get(status_url).json()
                    if state["status"] == "applying" and state["processed_rows"]:
                        seen.update(state, visible=Product.objects.count())
                        break
                    time.sleep(0.05)
        finally:
            locked.set()
            connection.close()

    thread = threading.Thread(target=watcher)
    thread.start()
    assert locked.wait(30)
    with run_jobs():
        response = client.post(f"{IMPORT}{checked.pk}/apply/")
    thread.join(90)
    assert response.status_code == 302

    assert seen == {
        "status": "applying",
        "status_label": "Applying",
        "running": True,
        "processed_rows": 1000,
        "total_rows": 2500,
        "percent": 40,
        "visible": products,
    }
    checked.refresh_from_db()
    assert checked.status == ImportStatus.APPLIED and checked.processed_rows == 2500
    assert Product.objects.count() == products + 2499
    assert Product.objects.get(sku="SKU-1500").price == 1510
    ids = sum(changes[sent:], [])
    assert len(changes) - sent == 1  # one signal for the whole import, after its 3 chunks
    assert len(ids) == 2500  # 2,499 created, one price changed
    created = ProductChange.objects.filter(product__sku__startswith="SKU-").exclude(price=1)
    assert set(ids) == set(created.values_list("pk", flat=True))
    state = client.get(status_url).json()
    assert (state["status"], state["running"], state["percent"]) == ("applied", False, 100)
