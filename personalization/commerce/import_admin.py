"""The CSV import in the admin (Personalization → Products → Import CSV): upload a file, read
the dry run's report, apply it, watch the progress bar. Only editors who may change products
see the button or reach these views."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
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


def _guard(request) -> None:
    if not can_import(request.user):
        raise PermissionDenied


def _products_crumb() -> dict:
    return {"url": _url("list"), "label": _("Products")}


def _import_crumb() -> dict:
    return {"url": _url("import"), "label": _("Import CSV")}


def import_index(request):
    """The upload form, and the past imports."""
    _guard(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        product_import = csv_import.import_start(
            form.cleaned_data["file"], request.user, get_language() or "en"
        )
        return redirect(_url("import_detail", product_import.pk))
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
            **admin_header(_("Import CSV"), _products_crumb(), icon="upload"),
        },
        status=400 if form.errors else 200,
    )


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
    product_import = get_object_or_404(ProductImport, pk=pk)
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
    return JsonResponse(_status(get_object_or_404(ProductImport, pk=pk)))


@require_POST
def import_apply(request, pk: int):
    """Apply a checked import (without errors) in the background."""
    _guard(request)
    product_import = get_object_or_404(ProductImport, pk=pk)
    if not csv_import.apply_start(product_import):
        messages.error(request, _("This import cannot be applied (it has errors or has run)."))
    return redirect(_url("import_detail", pk))


def urlpatterns() -> list:
    """The import's URLs, inside the product snippets' namespace."""
    return [
        path("import/", import_index, name="import"),
        path("import/<int:pk>/", import_detail, name="import_detail"),
        path("import/<int:pk>/status/", import_status, name="import_status"),
        path("import/<int:pk>/apply/", import_apply, name="import_apply"),
    ]
