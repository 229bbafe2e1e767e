"""The CSV import recovers and cleans up after itself: an import whose worker died is failed by
the periodic sweep (nothing applied: the apply is one transaction, and commits only while the
import is applying), uploaded files are deleted once an import ends (and by the sweep when left
behind), and a file over the size limit is refused before its upload is read."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from rq import Worker
from wagtail.users.models import UserProfile

from personalization.commerce import csv_import
from personalization.commerce.models import ImportStatus, Product, ProductImport
from personalization.periodic import periodic_job_run
from tests.commerce import test_csv_import as base
from tests.commerce.test_csv_import import GOOD, HEADER, IMPORT, apply, catalogue, upload
from tests.config.test_japanese_admin import untranslated

pytestmark = pytest.mark.django_db
_media = base._media  # MEDIA_ROOT is the test's tmp_path
admin_client = base.admin_client  # the demo's admin, in English
STUCK = "The worker stopped before the import finished; nothing was applied. Upload the file again."
POSTGRES = "postgres" in settings.DATABASES["default"]["ENGINE"]


def stored(media: Path) -> list[str]:
    """The files under MEDIA_ROOT/product-imports/."""
    folder = media / "product-imports"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def checked_import_past_a_held_row(run_jobs, username: str) -> tuple:
    """An editor of its own (a transactional test starts without the demo's), an existing
    product SKU-1200 (the test holds its row lock: the apply waits there, after its first chunk
    of 1,000 rows) and a checked import of 1,500 rows updating it: (client, import, catalogue
    before)."""
    admin = get_user_model().objects.create_superuser(username, f"{username}@example.com", "x")
    client = Client()
    client.force_login(admin)
    Product.objects.create(sku="SKU-1200", name="Held", price=1, stock=1)
    rows = "".join(f"SKU-{n:04d},Product {n},,dog,{n + 10},1,,\n" for n in range(1500))
    checked = upload(client, run_jobs, f"{HEADER}\n{rows}")
    assert checked.status == ImportStatus.CHECKED
    return client, checked, catalogue()


def backdate(product_import: ProductImport, **delta) -> None:
    """As if the import had last moved (and been uploaded) that long ago."""
    moment = timezone.now() - datetime.timedelta(**delta)
    ProductImport.objects.filter(pk=product_import.pk).update(updated_at=moment, created_at=moment)


# FILES DELETED ONCE AN IMPORT ENDS
# ------------------------------------------------------------------------------


def test_the_file_is_deleted_once_applied_and_the_pages_still_work(
    admin_client, run_jobs, tmp_path
):
    checked = upload(admin_client, run_jobs, GOOD)
    name = Path(checked.file.name).name
    assert stored(tmp_path) == sorted([name, f"{name}.checked.json"])  # until applied

    applied = apply(admin_client, run_jobs, checked)
    assert applied.status == ImportStatus.APPLIED and Product.objects.filter(sku="CAT-9").exists()
    assert stored(tmp_path) == [] and applied.file.name == ""
    assert applied.report["applied"] == {"created": 4, "updated": 0, "unchanged": 0}
    page = admin_client.get(f"{IMPORT}{applied.pk}/")
    assert page.status_code == 200 and "Imported" in page.content.decode()
    listing = admin_client.get(IMPORT)
    assert listing.status_code == 200 and "products.csv" in listing.content.decode()


def test_the_file_is_deleted_when_invalid_or_failed(admin_client, run_jobs, tmp_path, refuse_sku):
    invalid = upload(admin_client, run_jobs, f"{HEADER}\nDOG-1,Dog food,,dog,-1,1,,\n")
    assert invalid.status == ImportStatus.INVALID and invalid.report["error_count"] == 1
    assert stored(tmp_path) == [] and invalid.file.name == ""
    page = admin_client.get(f"{IMPORT}{invalid.pk}/").content.decode()
    assert "Upload a corrected file" in page and 'data-count="errors">1<' in page

    checked = upload(admin_client, run_jobs, f"{HEADER}\nSKU-1,Refused,,dog,1,1,,\n")
    refuse_sku("SKU-1")
    failed = apply(admin_client, run_jobs, checked)
    assert failed.status == ImportStatus.FAILED and "test_refused" in failed.report["failure"]
    assert stored(tmp_path) == [] and failed.file.name == ""
    page = admin_client.get(f"{IMPORT}{failed.pk}/").content.decode()
    assert "Nothing was imported" in page and "Upload the file again" in page


def test_a_checked_import_can_be_discarded(admin_client, run_jobs, tmp_path):
    before = catalogue()
    checked = upload(admin_client, run_jobs, GOOD)
    page = admin_client.get(f"{IMPORT}{checked.pk}/").content.decode()
    assert f'action="{IMPORT}{checked.pk}/discard/"' in page

    response = admin_client.post(f"{IMPORT}{checked.pk}/discard/", follow=True)
    assert "The import was discarded; nothing was changed." in response.content.decode()
    checked.refresh_from_db()
    assert checked.status == ImportStatus.DISCARDED and checked.file.name == ""
    assert stored(tmp_path) == [] and catalogue() == before
    page = admin_client.get(f"{IMPORT}{checked.pk}/").content.decode()
    assert "/apply/" not in page and "Discarded without being applied" in page
    # Neither applied nor discarded twice.
    assert apply(admin_client, run_jobs, checked).status == ImportStatus.DISCARDED
    response = admin_client.post(f"{IMPORT}{checked.pk}/discard/", follow=True)
    assert "Only a checked import that has not run can be discarded." in (response.content.decode())
    assert catalogue() == before


# THE SWEEP
# ------------------------------------------------------------------------------


def test_the_sweep_is_a_periodic_job_that_cleans_up_old_files(admin_client, run_jobs, tmp_path):
    """A checked file never applied for longer than COMMERCE_IMPORT_FILE_DAYS is discarded, its
    file deleted; a file an ended import still has (its deletion failed) is deleted; a recent
    checked import keeps its file, and every row stays with its report."""
    old = upload(admin_client, run_jobs, GOOD, name="old.csv")
    recent = upload(admin_client, run_jobs, GOOD, name="recent.csv")
    backdate(old, days=8)
    left = ProductImport.objects.create(
        file=SimpleUploadedFile("left.csv", b"sku,name,price,stock\n"),
        original_name="left.csv",
        status=ImportStatus.APPLIED,
        report={"applied": {"created": 1, "updated": 0, "unchanged": 0}},
    )
    recent_files = [Path(recent.file.name).name, Path(recent.file.name).name + ".checked.json"]
    assert len(stored(tmp_path)) == 5

    assert periodic_job_run("product-imports-sweep") == {
        "failed": 0,
        "discarded": 1,
        "files_deleted": 1,
    }
    old.refresh_from_db()
    assert old.status == ImportStatus.DISCARDED and old.file.name == ""
    assert old.report["discarded"] == "Not applied within 7 days: discarded."
    assert old.report["created"] == 4  # the dry run's report stays
    assert ProductImport.objects.get(pk=left.pk).file.name == ""
    assert stored(tmp_path) == sorted(recent_files)
    recent.refresh_from_db()
    assert recent.status == ImportStatus.CHECKED
    page = admin_client.get(f"{IMPORT}{old.pk}/").content.decode()
    assert "Not applied within 7 days: discarded." in page and "Upload the file again" in page
    assert "/apply/" not in page
    assert admin_client.get(IMPORT).status_code == 200
    assert csv_import.imports_sweep() == {"failed": 0, "discarded": 0, "files_deleted": 0}


def test_a_stuck_check_is_failed_and_the_page_stops_polling(admin_client, tmp_path, settings):
    """An upload whose check never ran (no worker took it, or it died): once it has had no
    progress for COMMERCE_IMPORT_STUCK_MINUTES, the status endpoint (and the sweep) say failed;
    before, it is left alone."""
    response = admin_client.post(
        IMPORT, {"file": SimpleUploadedFile("stuck.csv", GOOD.encode(), "text/csv")}
    )  # the queued job never runs: no commit in this test
    assert response.status_code == 302
    stuck = ProductImport.objects.get()
    assert stuck.status == ImportStatus.CHECKING and len(stored(tmp_path)) == 1
    status_url = f"{IMPORT}{stuck.pk}/status/"
    backdate(stuck, minutes=14)
    assert admin_client.get(status_url).json()["running"] is True
    assert csv_import.imports_sweep()["failed"] == 0
    assert "data-import-progress" in admin_client.get(f"{IMPORT}{stuck.pk}/").content.decode()

    settings.COMMERCE_IMPORT_STUCK_MINUTES = 10
    state = admin_client.get(status_url).json()
    assert (state["status"], state["running"]) == ("failed", False)  # the poller stops
    stuck.refresh_from_db()
    assert stuck.report["failure"] == STUCK and stuck.file.name == ""
    assert stored(tmp_path) == []
    page = admin_client.get(f"{IMPORT}{stuck.pk}/").content.decode()
    assert STUCK in page and "data-import-progress" not in page
    assert "Upload the file again" in page

    # In Japanese, the editor's language when uploading.
    user = get_user_model().objects.get(username="admin")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "ja"
    profile.save()
    with_ja = ProductImport.objects.create(
        file=SimpleUploadedFile("ja.csv", b"x"), original_name="ja.csv", report={"language": "ja"}
    )
    backdate(with_ja, minutes=11)
    assert csv_import.imports_sweep()["failed"] == 1
    with_ja.refresh_from_db()
    assert with_ja.status == ImportStatus.FAILED and STUCK not in with_ja.report["failure"]
    for url in (IMPORT, f"{IMPORT}{with_ja.pk}/"):
        html = admin_client.get(url).content.decode()
        assert untranslated(html) == [], url
    assert with_ja.report["failure"] in admin_client.get(f"{IMPORT}{with_ja.pk}/").content.decode()


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL row locks")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_slow_apply_failed_by_the_sweep_applies_nothing(run_jobs, tmp_path):
    """The apply waits on a row lock for longer than the limit; the sweep fails it meanwhile. When
    the lock is released the apply goes on, finds its import no longer applying and rolls back:
    the message "nothing was applied" is true even of a worker that was only slow."""
    client, checked, before = checked_import_past_a_held_row(run_jobs, "sweeper")

    outcome: dict = {}

    def holder():
        try:
            with transaction.atomic():
                Product.objects.select_for_update().get(sku="SKU-1200")
                outcome["locked"] = True
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    row = ProductImport.objects.get(pk=checked.pk)
                    if row.status == ImportStatus.APPLYING and row.processed_rows == 1000:
                        backdate(row, minutes=30)
                        outcome["sweep"] = csv_import.imports_sweep()
                        break
                    time.sleep(0.05)
        finally:
            outcome.setdefault("locked", False)
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    while "locked" not in outcome:
        time.sleep(0.01)
    assert outcome["locked"]
    with run_jobs():
        client.post(f"{IMPORT}{checked.pk}/apply/")
    thread.join(90)

    assert outcome["sweep"] == {"failed": 1, "discarded": 0, "files_deleted": 0}
    checked.refresh_from_db()
    assert checked.status == ImportStatus.FAILED and checked.report["failure"] == STUCK
    assert catalogue() == before and Product.objects.get(sku="SKU-1200").price == 1
    assert stored(tmp_path) == []


# A WORKER KILLED IN THE MIDDLE OF AN APPLY
# ------------------------------------------------------------------------------


def _worker_environment(media: Path) -> dict:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "WORKER_MEDIA_ROOT": str(media),
    }


WORKER = """
import os, django
django.setup()
from django.conf import settings
settings.MEDIA_ROOT = os.environ["WORKER_MEDIA_ROOT"]
import django_rq
from rq import SimpleWorker
queue = django_rq.get_queue("default")
SimpleWorker([queue], connection=queue.connection).work(burst=True)
"""


@pytest.mark.skipif(not (POSTGRES and settings.REDIS_URL), reason="PostgreSQL and an RQ worker")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_during_the_apply_applied_nothing_and_the_sweep_fails_it(
    run_jobs, tmp_path
):
    """A real RQ worker process applies the import; it waits on a product this test locks after
    its first chunk of 1,000 rows (written, uncommitted) and is killed (SIGKILL) there. Its
    transaction dies with it; the import stays "applying" until the sweep, once the limit has
    passed, fails it with the message — and not one product changed."""
    client, checked, before = checked_import_past_a_held_row(run_jobs, "killer")
    queue = django_rq.get_queue("default")
    queue.empty()
    assert client.post(f"{IMPORT}{checked.pk}/apply/").status_code == 302
    assert queue.count == 1  # the apply, for the worker process
    job = queue.jobs[0]

    worker = None
    try:
        with transaction.atomic():
            Product.objects.select_for_update().get(sku="SKU-1200")
            worker = subprocess.Popen(  # noqa: S603
                [sys.executable, "-c", WORKER],
                cwd=settings.BASE_DIR,
                env=_worker_environment(tmp_path),
                start_new_session=True,
            )
            deadline = time.monotonic() + 60
            while ProductImport.objects.get(pk=checked.pk).processed_rows < 1000:
                assert time.monotonic() < deadline, "the worker never reached the lock"
                assert worker.poll() is None, "the worker ended"
                time.sleep(0.05)
            os.kill(worker.pid, signal.SIGKILL)
            assert worker.wait(10) == -signal.SIGKILL
        # The lock released: the dead worker's database session ends, rolling back.
        _wait_for_other_sessions_to_end()
    finally:
        if worker is not None and worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(10)
        _forget(queue, job, worker)

    checked.refresh_from_db()
    assert checked.status == ImportStatus.APPLYING and checked.processed_rows == 1000
    assert catalogue() == before
    assert csv_import.imports_sweep()["failed"] == 0  # not yet stuck for long enough
    backdate(checked, minutes=16)
    assert csv_import.imports_sweep() == {"failed": 1, "discarded": 0, "files_deleted": 0}
    checked.refresh_from_db()
    assert checked.status == ImportStatus.FAILED and checked.report["failure"] == STUCK
    assert checked.report["created"] == 1499  # the dry run's report stays
    assert catalogue() == before and Product.objects.get(sku="SKU-1200").price == 1
    assert stored(tmp_path) == [] and checked.file.name == ""
    state = client.get(f"{IMPORT}{checked.pk}/status/").json()
    assert (state["status"], state["running"]) == ("failed", False)
    page = client.get(f"{IMPORT}{checked.pk}/").content.decode()
    assert STUCK in page and "Upload the file again" in page


def _forget(queue, job, worker) -> None:
    """Take the dead worker and its job out of Redis, as an operator would (RQ would move the
    job to the failed jobs once its execution expires): the next tests see empty queues."""
    queue.started_job_registry.remove_executions(job)
    job.delete()
    for registered in Worker.all(connection=queue.connection):
        if worker is not None and registered.pid == worker.pid:
            registered.register_death()


def _wait_for_other_sessions_to_end() -> None:
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            assert time.monotonic() < deadline, "the killed worker's session is still open"
            time.sleep(0.1)


# A FILE OVER THE LIMIT IS REFUSED BEFORE IT IS READ
# ------------------------------------------------------------------------------


class Reading(MemoryFileUploadHandler):
    """The site's usual first handler, noting every byte of a file it is given."""

    received: list[int] = []

    def receive_data_chunk(self, raw_data, start):
        Reading.received.append(len(raw_data))
        return super().receive_data_chunk(raw_data, start)


@pytest.fixture
def reading(settings):
    Reading.received = []
    settings.FILE_UPLOAD_HANDLERS = [
        "tests.commerce.test_csv_import_recovery.Reading",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    return Reading.received


def test_a_50_mb_upload_is_refused_before_it_is_read(admin_client, tmp_path, reading):
    row = b"DOG-1,Dog food,dog-food,dog,100,3,https://shop.example.jp/items/dog-1,true\n"
    content = (HEADER + "\n").encode() + row * (50 * 1024 * 1024 // len(row) + 1)
    response = admin_client.post(IMPORT, {"file": SimpleUploadedFile("big.csv", content)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The file is 50.0 MB; files of at most 20 MB can be imported" in html
    assert 'name="file"' in html  # the form again
    assert reading == []  # not one byte of the file read
    assert not ProductImport.objects.exists() and stored(tmp_path) == []


def test_an_upload_passing_the_limit_is_stopped_while_it_streams(
    admin_client, run_jobs, tmp_path, reading, settings
):
    """Its Content-Length within the allowance for the form around the file (or none at all):
    the upload handler stops it once the file passes the limit, and nothing is stored."""
    settings.COMMERCE_IMPORT_MAX_BYTES = 1024 * 1024
    rows = "".join(f"SKU-{n:05d},Product,,dog,100,1,,\n" for n in range(35_500))
    content = f"{HEADER}\n{rows}".encode()
    assert 1024 * 1024 < len(content) < 1024 * 1024 + 64 * 1024
    response = admin_client.post(IMPORT, {"file": SimpleUploadedFile("big.csv", content)})
    assert response.status_code == 400
    assert "The file is larger than 1 MB, the most that can be imported" in (
        response.content.decode()
    )
    # Stopped at the chunk passing the limit: the next handler never got the rest.
    assert 0 < sum(reading) <= 1024 * 1024
    assert not ProductImport.objects.exists() and stored(tmp_path) == []

    # A file within the limit goes through the same handlers.
    small = upload(admin_client, run_jobs, f"{HEADER}\nDOG-1,Dog food,,dog,100,3,,\n")
    assert small.status == ImportStatus.CHECKED and sum(reading) > 0


def test_the_upload_is_still_csrf_protected(run_jobs, tmp_path):
    user = get_user_model().objects.get(username="admin")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    data = {"file": SimpleUploadedFile("p.csv", GOOD.encode(), "text/csv")}
    assert client.post(IMPORT, data).status_code == 403
    assert not ProductImport.objects.exists() and stored(tmp_path) == []
    page = client.get(IMPORT)
    token = page.cookies[settings.CSRF_COOKIE_NAME].value
    data = {"file": SimpleUploadedFile("p.csv", GOOD.encode(), "text/csv")}
    response = client.post(IMPORT, {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and ProductImport.objects.count() == 1


def test_the_form_refuses_a_large_file_in_the_browser_with_the_same_message(admin_client, run_jobs):
    """The form carries the limit and the message (translated) its script shows (the script
    itself runs in tests/e2e/test_product_import_upload.py)."""
    html = admin_client.get(IMPORT).content.decode()
    assert f'data-max-bytes="{20 * 1024 * 1024}"' in html
    assert (
        'data-too-large="The file is {size} MB; files of at most 20 MB can be imported. '
        'Split it into smaller files."' in html
    )
    assert "commerce/js/import_upload.js" in html

    checked = upload(admin_client, run_jobs, GOOD)
    profile = UserProfile.get_for_user(get_user_model().objects.get(username="admin"))
    profile.preferred_language = "ja"
    profile.save()
    html = admin_client.get(IMPORT).content.decode()
    assert 'data-too-large="ファイルは {size} MB です。インポートできるのは 20 MB まで' in html
    detail = admin_client.get(f"{IMPORT}{checked.pk}/").content.decode()
    assert "このインポートを破棄" in detail
    for page in (html, detail):
        assert untranslated(page) == []
