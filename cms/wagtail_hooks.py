"""Site hooks: the render cache learns which live page Wagtail routed to."""

from __future__ import annotations

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
