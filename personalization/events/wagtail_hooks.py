"""Every served page view becomes an event."""

from __future__ import annotations

from wagtail import hooks

from personalization.events.services import page_view_track


@hooks.register("before_serve_page", order=100)
def track_page_view(page, request, serve_args, serve_kwargs):
    """Every served page view goes to the events queue (after Wagtail's privacy check)."""
    if request.method == "GET" and not getattr(request, "is_preview", False):
        page_view_track(request=request, page=page)
