"""The CSV import in the admin (Personalization → Products → Import CSV): upload a file, read
the dry run's report, apply it (or discard it), watch the progress bar. Only editors who may
change products see the button or reach these views.

A file over the size limit is refused before it is received: by the form's script in the
browser, by the request's Content-Length before the body is read, and, while the body streams
in, by an upload handler that stops it once the file passes the limit (nothing is stored)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST
from wagtail.admin import messages
from wagtail.admin.widgets.button import HeaderButton
from wagtail.snippets.views.snippets import IndexView

from personalization.admin_header import admin_header
from personalization.commerce import csv_import
from personalization.commerce.models import ImportStatus, ProductImport

NAMESPACE = "wagtailsnippets_commerce_product"
PAST_IMPORTS = 20
RUNNING = (ImportStatus.CHECKING, ImportStatus.APPLYING)
# Room for the multipart envelope (boundaries, headers, the CSRF token) around a file at the limit:
# a request longer than the limit and this is refused unread; the upload handler counts the file's
# own bytes.
ENVELOPE_BYTES = 64 * 1024


def can_import(user) -> bool:
    """Editors who may change products may import them."""
    return user.has_perm("commerce.change_product")


def _url(name: str, *args) -> str:
    return reverse(f"{NAMESPACE}:{name}", args=args)


class ProductIndexView(IndexView):
    """The product list, with "Import CSV" beside "Add product" for those who may import."""

    def get_header_buttons(self):
        buttons = super().get_header_buttons()
        if can_import(self.request.user):
            buttons.append(
                HeaderButton(_("Import CSV"), url=_url("import"), icon_name="upload", priority=20)
            )
        return buttons


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "UTF-8, with a header row: sku, name, price, stock (required), category, pet_type, "
            "url, active."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > csv_import.max_bytes():
            raise forms.ValidationError(csv_import.too_large_message(upload.size))
        return upload


class SizeLimitHandler(FileUploadHandler):
    """First of the request's upload handlers: passes each chunk on, and stops the upload
    (unread, nothing stored) as soon as a file passes `limit` bytes — the case of a request
    without a Content-Length, or one that understates it."""

    def __init__(self, request, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.refused = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.refused = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (memory or temporary file) makes the file


def _content_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _guard(request) -> None:
    if not can_import(request.user):
        raise PermissionDenied


def _products_crumb() -> dict:
    return {"url": _url("list"), "label": _("Products")}


def _import_crumb() -> dict:
    return {"url": _url("import"), "label": _("Import CSV")}


def _refused(message: str) -> ImportForm:
    """The upload form showing why the file was refused (its data never read)."""
    form = ImportForm(data={}, files={})
    form.full_clean()
    form.errors.clear()
    form.add_error("file", message)
    return form


@csrf_exempt  # the CSRF check reads the body: first the size checks, then `_upload` checks it
def import_index(request):
    """The upload form, and the past imports. A POST longer than the limit is refused before
    its body is read; a shorter one is read through `SizeLimitHandler`."""
    _guard(request)
    if request.method == "POST":
        length = _content_length(request)
        if length is not None and length > csv_import.max_bytes() + ENVELOPE_BYTES:
            return _index(request, _refused(csv_import.too_large_message(length)))
        request.upload_handlers.insert(0, SizeLimitHandler(request, csv_import.max_bytes()))
    return _upload(request)


@csrf_protect
def _upload(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method != "POST":
        return _index(request, form)
    if any(getattr(handler, "refused", False) for handler in request.upload_handlers):
        return _index(request, _refused(csv_import.over_limit_message()))
    if form.is_valid():
        product_import = csv_import.import_start(
            form.cleaned_data["file"], request.user, get_language() or "en"
        )
        return redirect(_url("import_detail", product_import.pk))
    return _index(request, form)


def _index(request, form: ImportForm):
    imports = ProductImport.objects.select_related("created_by")[:PAST_IMPORTS]
    return TemplateResponse(
        request,
        "commerce/import_index.html",
        {
            "form": form,
            "imports": imports,
            "columns": csv_import.COLUMNS,
            "required": csv_import.REQUIRED,
            "max_mb": f"{csv_import.max_bytes() / 1024 / 1024:.0f}",
            "max_bytes": csv_import.max_bytes(),
            # The browser's own check, before sending: the same message, its size put in.
            "too_large": csv_import.too_large_message("{size}"),
            **admin_header(_("Import CSV"), _products_crumb(), icon="upload"),
        },
        status=400 if form.errors else 200,
    )


def _current(pk: int) -> ProductImport:
    """The import, failed first when it has been running without progress for too long (its
    worker died): the page says so even before the periodic sweep runs, and stops polling."""
    product_import = get_object_or_404(ProductImport, pk=pk)
    if product_import.status in RUNNING and csv_import.stuck_fail(
        ProductImport.objects.filter(pk=pk)
    ):
        product_import.refresh_from_db()
    return product_import


def _status(product_import: ProductImport) -> dict:
    """What the progress bar needs (the JSON endpoint and the page alike)."""
    done = csv_import.processed_rows(product_import)
    total = max(product_import.total_rows, done)
    return {
        "status": product_import.status,
        "status_label": product_import.get_status_display(),
        "running": product_import.status in RUNNING,
        "processed_rows": done,
        "total_rows": total,
        "percent": round(100 * done / total) if total else 0,
    }


@require_GET
def import_detail(request, pk: int):
    """One import: its progress while a job runs, then the report (and Apply) or the result."""
    _guard(request)
    product_import = _current(pk)
    report = product_import.report
    return TemplateResponse(
        request,
        "commerce/import_detail.html",
        {
            "product_import": product_import,
            "report": report,
            "progress": _status(product_import),
            "status_url": _url("import_status", pk),
            "apply_url": _url("import_apply", pk),
            "discard_url": _url("import_discard", pk),
            "can_apply": product_import.status == ImportStatus.CHECKED,
            "errors_hidden": report.get("error_count", 0) - len(report.get("errors", [])),
            **admin_header(
                product_import.original_name,
                _products_crumb(),
                _import_crumb(),
                icon="upload",
            ),
        },
    )


@require_GET
def import_status(request, pk: int):
    """The import's status and progress as JSON, for the progress bar's poller."""
    _guard(request)
    return JsonResponse(_status(_current(pk)))


@require_POST
def import_apply(request, pk: int):
    """Apply a checked import (without errors) in the background."""
    _guard(request)
    product_import = get_object_or_404(ProductImport, pk=pk)
    if not csv_import.apply_start(product_import):
        messages.error(request, _("This import cannot be applied (it has errors or has run)."))
    return redirect(_url("import_detail", pk))


@require_POST
def import_discard(request, pk: int):
    """Discard a checked import without applying it: its file is deleted."""
    _guard(request)
    product_import = get_object_or_404(ProductImport, pk=pk)
    if csv_import.discard(product_import):
        messages.success(request, _("The import was discarded; nothing was changed."))
    else:
        messages.error(request, _("Only a checked import that has not run can be discarded."))
    return redirect(_url("import"))


def urlpatterns() -> list:
    """The import's URLs, inside the product snippets' namespace."""
    return [
        path("import/", import_index, name="import"),
        path("import/<int:pk>/", import_detail, name="import_detail"),
        path("import/<int:pk>/status/", import_status, name="import_status"),
        path("import/<int:pk>/apply/", import_apply, name="import_apply"),
        path("import/<int:pk>/discard/", import_discard, name="import_discard"),
    ]
