"""The admin's CSV import of products: an uploaded file is checked first (a dry run: every row
validated as the feed API validates an item, then counted as new, updated or unchanged against
the catalogue, nothing written), and applied only when it has no error — all rows in one
transaction through `products_upsert`, so history rows and `products_changed` are exactly the
feed's, and a failure half-way leaves nothing.

Both steps are RQ jobs (`default` queue; inline with no Redis). The apply job holds one long
transaction, so its progress cannot go through that transaction: each chunk's count is written
by a second, autocommitting database connection (PostgreSQL), which the admin's status endpoint
reads from any process, Redis or not; the cache gets it too (the only way on SQLite, where the
second writer would wait for the first).

The file: UTF-8 (a byte-order mark is fine), a header row naming the columns — `sku`, `name`,
`price` and `stock` are required; `category`, `pet_type`, `url` and `active` are optional, and a
column left out keeps each product's value. An empty cell of an optional column keeps the value
too, except `category` and `url`, which an empty cell clears.

Nothing is left behind: the uploaded file (and the dry run's validated items beside it) is
deleted once the import ends — applied, invalid, failed or discarded; the row stays, with its
report, in the list of past imports. A periodic sweep (`imports_sweep`, every five minutes) fails
an import still checking or applying with no progress for COMMERCE_IMPORT_STUCK_MINUTES (its
worker died: the apply is one transaction, so nothing was applied), discards a checked import
not applied within COMMERCE_IMPORT_FILE_DAYS, and deletes any file still lying around.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.jobs import enqueue
from personalization.commerce.api.serializers import product_item_check
from personalization.commerce.models import ImportStatus, ProductImport
from personalization.commerce.services import products_compare, products_upsert

logger = logging.getLogger(__name__)

COLUMNS = ("sku", "name", "category", "pet_type", "price", "stock", "url", "active")
REQUIRED = ("sku", "name", "price", "stock")
CLEARABLE = ("category", "url")  # an empty cell means "" here; elsewhere "keep the value"
INTEGERS = ("price", "stock")
BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
INTEGER = re.compile(r"[+-]?\d{1,18}")
PROGRESS_EVERY = 1_000  # rows between two progress writes while checking
VALUE_SHOWN = 60  # characters of a bad cell the report repeats


def max_bytes() -> int:
    """The largest file accepted (COMMERCE_IMPORT_MAX_BYTES, 20 MB by default)."""
    return getattr(settings, "COMMERCE_IMPORT_MAX_BYTES", 20 * 1024 * 1024)


def max_errors() -> int:
    """How many problems a report lists (all are counted): COMMERCE_IMPORT_MAX_ERRORS."""
    return getattr(settings, "COMMERCE_IMPORT_MAX_ERRORS", 100)


def stuck_after() -> timedelta:
    """How long a running import may go without progress before the sweep fails it."""
    return timedelta(minutes=getattr(settings, "COMMERCE_IMPORT_STUCK_MINUTES", 15))


def files_kept() -> timedelta:
    """How long a checked file waits to be applied before the sweep discards it."""
    return timedelta(days=getattr(settings, "COMMERCE_IMPORT_FILE_DAYS", 7))


def too_large_message(size: int | str) -> str:
    """The refusal of a file over the limit; `size` in bytes (or already written out: the
    upload form's script puts the size in)."""
    shown = size if isinstance(size, str) else f"{size / 1024 / 1024:.1f}"
    return _(
        "The file is %(size)s MB; files of at most %(max)s MB can be imported. "
        "Split it into smaller files."
    ) % {"size": shown, "max": f"{max_bytes() / 1024 / 1024:.0f}"}


def over_limit_message() -> str:
    """The refusal of an upload stopped as it passed the limit (its whole size unknown)."""
    return _(
        "The file is larger than %(max)s MB, the most that can be imported. "
        "Split it into smaller files."
    ) % {"max": f"{max_bytes() / 1024 / 1024:.0f}"}


def stuck_message() -> str:
    return _(
        "The worker stopped before the import finished; nothing was applied. Upload the file again."
    )


class FileRejected(Exception):
    """The file as a whole cannot be read (size, encoding, header): nothing of it is used."""


@dataclass
class Checked:
    """A checked file: its valid items (no SKU twice), every problem (`errors` lists the first
    `max_errors()`, `error_count` counts all) and the number of data rows."""

    items: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    rows: int = 0
    message: str = ""  # why the file as a whole was refused

    @property
    def valid(self) -> bool:
        return not self.message and not self.error_count

    def add_error(self, line: int, column: str, message: str, value: str = "") -> None:
        self.error_count += 1
        if len(self.errors) < max_errors():
            shown = value if len(value) <= VALUE_SHOWN else value[: VALUE_SHOWN - 1] + "…"
            self.errors.append(
                {"line": line, "column": column, "message": str(message), "value": shown}
            )


def _lines(binary: Iterable[bytes]) -> Iterator[str]:
    """The file's lines as text, UTF-8 with or without a byte-order mark; FileRejected naming
    the first line that is not UTF-8."""
    for number, raw in enumerate(binary, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise FileRejected(
                _(
                    "Line %(line)d is not UTF-8 text. Save the file as “CSV UTF-8” (in Excel: "
                    "File → Save As → CSV UTF-8) and upload it again."
                )
                % {"line": number}
            ) from None


def _header(row: list[str]) -> list[str]:
    """The columns the header row names, in order; FileRejected listing what is wrong."""
    names = [cell.strip().lower() for cell in row]
    problems = []
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        problems.append(
            _("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown) or '""'}
        )
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        problems.append(_("Columns named twice: %(columns)s.") % {"columns": ", ".join(twice)})
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        problems.append(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
    if problems:
        expected = _("The first row names the columns: %(columns)s (%(required)s required).") % {
            "columns": ", ".join(COLUMNS),
            "required": ", ".join(REQUIRED),
        }
        raise FileRejected(" ".join([*problems, expected]))
    return names


def _raw_item(columns: list[str], cells: list[str]) -> dict:
    """A row as the feed API would receive the item: numbers and booleans typed where the text
    is one (anything else is passed on for the shared validation to refuse)."""
    raw: dict = {}
    for column, cell in zip(columns, cells, strict=True):
        text = cell.strip()
        if not text:
            if column in CLEARABLE:
                raw[column] = ""
            continue
        if column in INTEGERS and INTEGER.fullmatch(text):
            raw[column] = int(text)
        elif column == "active":
            raw[column] = BOOLEANS.get(text.lower(), text)
        else:
            raw[column] = cell if column in ("sku", "name") else text
    return raw


def check_rows(binary: Iterable[bytes], progress: Callable[[int], None] | None = None) -> Checked:
    """Parse and validate a CSV file given as binary lines, streaming (the rows are not kept,
    only the valid items)."""
    checked = Checked()
    seen: dict[str, int] = {}
    reader = csv.reader(_lines(binary), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise FileRejected(_("The file is empty: the first row must name the columns."))
        columns = _header(header)
        last = reader.line_num
        for cells in reader:
            line, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            checked.rows += 1
            if progress is not None and checked.rows % PROGRESS_EVERY == 0:
                progress(checked.rows)
            if len(cells) != len(columns):
                message = _("This row has %(cells)d cells; the header has %(columns)d.")
                checked.add_error(
                    line, "", message % {"cells": len(cells), "columns": len(columns)}
                )
                continue
            item, problems = product_item_check(_raw_item(columns, cells))
            if problems:
                row = dict(zip(columns, cells, strict=True))
                for column, messages in problems.items():
                    for message in messages:
                        checked.add_error(line, column, message, row.get(column, ""))
                continue
            sku = item["sku"]
            if sku in seen:
                message = _("This SKU is already on line %(line)d.") % {"line": seen[sku]}
                checked.add_error(line, "sku", message, sku)
                continue
            seen[sku] = line
            checked.items.append(item)
    except FileRejected as exc:
        checked.message = str(exc)
    except csv.Error as exc:
        checked.message = _("Line %(line)d cannot be read as CSV: %(error)s.") % {
            "line": reader.line_num,
            "error": exc,
        }
    if not checked.message and not checked.rows:
        checked.message = _("The file has a header row but no products.")
    return checked


# THE JOBS
# ------------------------------------------------------------------------------


def _cache_key(pk: int) -> str:
    return f"commerce:import:{pk}:progress"


class _Progress:
    """Writes an import's processed rows where other connections see them at once, though the
    caller is inside a transaction: a second connection (autocommit) and the cache."""

    def __init__(self, pk: int) -> None:
        self.pk = pk
        self.side = None
        if connection.vendor == "postgresql":
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, done: int) -> None:
        cache.set(_cache_key(self.pk), done, 3600)
        if self.side is None:
            return
        table = self.side.ops.quote_name(ProductImport._meta.db_table)
        try:
            with self.side.cursor() as cursor:
                # Never wait for a lock on the row: the count is only a progress bar.
                cursor.execute("SET lock_timeout = 1000")
                cursor.execute(
                    f"UPDATE {table} SET processed_rows = %s, updated_at = %s "  # noqa: S608
                    "WHERE id = %s",
                    [done, timezone.now(), self.pk],
                )
        except DatabaseError:
            logger.warning("Product import %s: progress not written", self.pk, exc_info=True)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def processed_rows(product_import: ProductImport) -> int:
    """Rows done so far: the row's count, or the cache's when it is ahead (SQLite)."""
    if product_import.status in (ImportStatus.CHECKING, ImportStatus.APPLYING):
        return max(product_import.processed_rows, cache.get(_cache_key(product_import.pk), 0))
    return product_import.processed_rows


def _open_lines(product_import: ProductImport):
    product_import.file.open("rb")
    return getattr(product_import.file.file, "file", product_import.file.file)


def _estimate_rows(product_import: ProductImport) -> int:
    """Lines after the header (a quoted cell may span lines: an estimate for the bar)."""
    newlines, last = 0, b"\n"
    with product_import.file.open("rb") as handle:
        while block := handle.read(1 << 20):
            newlines += block.count(b"\n")
            last = block[-1:]
    return max(newlines - (last == b"\n"), 0)


def check_file(product_import: ProductImport, progress=None) -> Checked:
    """Check the import's stored file (refused unread when larger than the limit)."""
    size = product_import.file.size
    if size > max_bytes():
        return Checked(message=too_large_message(size))
    try:
        return check_rows(_open_lines(product_import), progress)
    finally:
        product_import.file.close()


def _checked_name(product_import: ProductImport) -> str:
    return f"{product_import.file.name}.checked.json"


def _checked_save(product_import: ProductImport, items: list[dict]) -> None:
    """Keep the dry run's validated items beside the file: the apply reads them rather than
    parsing and validating every row again."""
    storage = product_import.file.storage
    name = _checked_name(product_import)
    if storage.exists(name):
        storage.delete(name)
    storage.save(name, ContentFile(json.dumps(items, ensure_ascii=False).encode()))


def _checked_items(product_import: ProductImport) -> list[dict]:
    """The items the dry run validated (or the file checked again, when they are missing)."""
    storage = product_import.file.storage
    name = _checked_name(product_import)
    if storage.exists(name):
        with storage.open(name, "rb") as handle:
            return json.load(handle)
    checked = check_file(product_import)
    if not checked.valid:
        raise ValueError(
            checked.message or _("The file has %(count)d errors.") % {"count": checked.error_count}
        )
    return checked.items


def _checked_delete(product_import: ProductImport) -> None:
    storage = product_import.file.storage
    name = _checked_name(product_import)
    if storage.exists(name):
        storage.delete(name)


def _language(product_import: ProductImport) -> str:
    return product_import.report.get("language") or settings.LANGUAGE_CODE


def import_check(pk: int) -> None:
    """The dry run (a job): validate every row and count new, updated and unchanged products;
    the import ends `checked` (ready to apply) or `invalid`, with its report."""
    product_import = ProductImport.objects.get(pk=pk)
    if product_import.status != ImportStatus.CHECKING:
        return
    with translation.override(_language(product_import)):
        try:
            if product_import.file.size <= max_bytes():
                total = _estimate_rows(product_import)
                ProductImport.objects.filter(pk=pk).update(
                    total_rows=total, processed_rows=0, updated_at=timezone.now()
                )
            progress = _Progress(pk)
            try:
                checked = check_file(product_import, progress)
            finally:
                progress.close()
            report = {
                "language": _language(product_import),
                "message": checked.message,
                "errors": checked.errors,
                "error_count": checked.error_count,
                "rows": checked.rows,
            }
            if not checked.message:
                counts = products_compare(checked.items)
                report.update(
                    created=counts.created, updated=counts.updated, unchanged=counts.unchanged
                )
            status = ImportStatus.CHECKED if checked.valid else ImportStatus.INVALID
            if checked.valid:
                _checked_save(product_import, checked.items)
        except Exception as exc:
            logger.exception("Product import %s: the check failed", pk)
            report = {**product_import.report, "message": _("The check failed: %s") % exc}
            status, checked = ImportStatus.FAILED, Checked()
    # Only while still checking: the sweep may have failed it meanwhile (a worker thought dead).
    ended = ProductImport.objects.filter(pk=pk, status=ImportStatus.CHECKING).update(
        status=status,
        report=report,
        total_rows=checked.rows,
        processed_rows=checked.rows,
        updated_at=timezone.now(),
    )
    cache.delete(_cache_key(pk))  # the apply counts from 0 again
    if not ended or status != ImportStatus.CHECKED:
        files_delete(product_import)  # nothing more to do with the file


def import_apply(pk: int) -> None:
    """Apply a checked import (a job): every row in one transaction, or nothing. The import
    ends `applied` with the counts, or `failed` with the reason (nothing changed)."""
    product_import = ProductImport.objects.get(pk=pk)
    if product_import.status != ImportStatus.APPLYING:
        return
    with translation.override(_language(product_import)):
        progress = _Progress(pk)
        try:
            items = _checked_items(product_import)
            with transaction.atomic():
                counts = products_upsert(items, progress=progress)
                # In the same transaction: applied (with the counts) exactly when committed, and
                # only if still applying — when the sweep has failed it meanwhile (no progress
                # for too long), nothing is applied, as its message says.
                now = timezone.now()
                applied = ProductImport.objects.filter(pk=pk, status=ImportStatus.APPLYING).update(
                    status=ImportStatus.APPLIED,
                    report={**product_import.report, "applied": asdict(counts)},
                    total_rows=len(items),
                    processed_rows=len(items),
                    applied_at=now,
                    updated_at=now,
                )
                if not applied:
                    transaction.set_rollback(True)
        except Exception as exc:
            logger.exception("Product import %s: not applied", pk)
            report = {
                **product_import.report,
                "failure": _("Nothing was imported: %(error)s") % {"error": exc},
            }
            ProductImport.objects.filter(pk=pk, status=ImportStatus.APPLYING).update(
                status=ImportStatus.FAILED,
                report=report,
                processed_rows=0,
                updated_at=timezone.now(),
            )
        finally:
            progress.close()
    files_delete(product_import)


# FILES AND THE SWEEP
# ------------------------------------------------------------------------------


def files_delete(product_import: ProductImport) -> None:
    """Delete an import's uploaded file and the dry run's items beside it (the row and its
    report stay). A storage error is logged: the sweep tries again."""
    name = product_import.file.name
    if not name:
        return
    storage = product_import.file.storage
    try:
        for stored in (f"{name}.checked.json", name):
            if storage.exists(stored):
                storage.delete(stored)
    except OSError:
        logger.warning("Product import %s: file not deleted", product_import.pk, exc_info=True)
        return
    # Only the file column: the job's own update of the status is not overwritten.
    ProductImport.objects.filter(pk=product_import.pk, file=name).update(file="")
    product_import.file.name = ""


def stuck_fail(queryset=None) -> int:
    """Fail the imports (of `queryset`, or all) still checking or applying with no progress for
    `stuck_after()`: their worker died. The apply is one transaction and commits only while the
    import is applying, so nothing of it was applied (and a worker merely slow rolls back).
    Returns how many were failed."""
    queryset = ProductImport.objects.all() if queryset is None else queryset
    failed = 0
    stale = queryset.filter(
        status__in=(ImportStatus.CHECKING, ImportStatus.APPLYING),
        updated_at__lt=timezone.now() - stuck_after(),
    )
    for product_import in stale:
        with translation.override(_language(product_import)):
            report = {**product_import.report, "failure": stuck_message()}
        # Still running and still stale (the worker may have moved on since the read).
        if ProductImport.objects.filter(
            pk=product_import.pk,
            status=product_import.status,
            updated_at=product_import.updated_at,
        ).update(status=ImportStatus.FAILED, report=report, processed_rows=0):
            logger.warning(
                "Product import %s: no progress while %s since %s; failed",
                product_import.pk,
                product_import.status,
                product_import.updated_at,
            )
            cache.delete(_cache_key(product_import.pk))
            files_delete(product_import)
            failed += 1
    return failed


def imports_sweep() -> dict:
    """The periodic job: fail stuck imports, discard checked files never applied within
    `files_kept()`, and delete every file an ended import still has (a deletion that failed)."""
    failed = stuck_fail()
    discarded = 0
    old = ProductImport.objects.filter(
        status=ImportStatus.CHECKED, created_at__lt=timezone.now() - files_kept()
    )
    for product_import in old:
        with translation.override(_language(product_import)):
            report = {
                **product_import.report,
                "discarded": _("Not applied within %(days)d days: discarded.")
                % {"days": files_kept().days},
            }
        if ProductImport.objects.filter(pk=product_import.pk, status=ImportStatus.CHECKED).update(
            status=ImportStatus.DISCARDED, report=report, updated_at=timezone.now()
        ):
            files_delete(product_import)
            discarded += 1
    running = (ImportStatus.CHECKING, ImportStatus.APPLYING, ImportStatus.CHECKED)
    deleted = 0
    for product_import in ProductImport.objects.exclude(file="").exclude(status__in=running):
        files_delete(product_import)
        deleted += not product_import.file.name
    return {"failed": failed, "discarded": discarded, "files_deleted": deleted}


# WHAT THE ADMIN CALLS
# ------------------------------------------------------------------------------


def import_start(upload, user, language: str) -> ProductImport:
    """Store an uploaded file (within the size limit: the form checks) and queue its check."""
    product_import = ProductImport.objects.create(
        file=upload,
        original_name=upload.name[:255],
        created_by=user,
        report={"language": language},
    )
    enqueue("default", "personalization.commerce.csv_import.import_check", product_import.pk)
    return product_import


def discard(product_import: ProductImport) -> bool:
    """Discard a checked import (not applied): its file is deleted. False when it is not one."""
    discarded = ProductImport.objects.filter(
        pk=product_import.pk, status=ImportStatus.CHECKED
    ).update(status=ImportStatus.DISCARDED, updated_at=timezone.now())
    if discarded:
        files_delete(product_import)
    return bool(discarded)


def apply_start(product_import: ProductImport) -> bool:
    """Queue the apply of a checked import without errors; False when it is not one (already
    applied, applying, invalid)."""
    started = ProductImport.objects.filter(
        pk=product_import.pk, status=ImportStatus.CHECKED
    ).update(status=ImportStatus.APPLYING, processed_rows=0, updated_at=timezone.now())
    if started:
        cache.delete(_cache_key(product_import.pk))
        enqueue("default", "personalization.commerce.csv_import.import_apply", product_import.pk)
    return bool(started)
