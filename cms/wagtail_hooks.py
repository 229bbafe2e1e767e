"""Site hooks: the render cache learns which live page Wagtail routed to."""

from __future__ import annotations

from django.templatetags.static import static
from django.utils.html import format_html, json_script
from django.utils.translation import gettext as _
from wagtail import hooks

from cms.holes import recording_of


@hooks.register("before_serve_page", order=50)
def note_page_for_render_cache(page, request, serve_args, serve_kwargs):
    """After Wagtail's view-restriction check (order 0) admitted the request and before a
    page-level experiment swaps in a variant (110): the live page whose render may be kept."""
    recording = recording_of(request)
    if recording is not None:
        recording.page = page


@hooks.register("explain_visitor_sections")
def explain_page_variants(matched, unknown):
    """ "Explain a visitor" shows which variant of each personalized page the visitor sees."""
    from cms.explain import explain_pages

    return explain_pages(matched, unknown)


@hooks.register("insert_editor_js")
def preview_segments_js():
    """Beside the preview mode menu: tick several segments and preview them combined."""
    strings = {
        "summary": _("Combine segments"),
        "button": _("Preview combined"),
        "combined": _("As segments: %(names)s"),
        "used": _("As segment: %(name)s (used on this page)"),
        "single": _("As segment: %(name)s"),
    }
    return format_html(
        '{}<script src="{}"></script>',
        json_script(strings, "preview-segments-strings"),
        static("cms/js/preview_segments.js"),
    )


@hooks.register("construct_homepage_panels")
def add_overview_panel(request, panels):
    """Editors see on the dashboard what personalization is doing and whether it keeps up."""
    from cms.dashboard import OverviewPanel

    panels.append(OverviewPanel())


@hooks.register("construct_explorer_page_queryset")
def mark_personalized_pages(parent_page, pages, request):
    """The explorer knows which pages are personalized or in an experiment in its own query."""
    from cms.listing_marks import annotate_marks

    return annotate_marks(pages)
