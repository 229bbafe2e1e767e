"""Every served page view becomes an event."""

from __future__ import annotations

from wagtail import hooks

from personalization.events.services import page_view_track


@hooks.register("before_serve_page", order=100)
def track_page_view(page, request, serve_args, serve_kwargs):
    """Every served page view goes to the events queue (after Wagtail's privacy check)."""
    if request.method == "GET" and not getattr(request, "is_preview", False):
        page_view_track(request=request, page=page)


@hooks.register("register_admin_urls")
def recommendations_report_urls():
    from django.urls import path

    from personalization.events.recommendation_report import recommendations_report_view

    return [
        path(
            "reports/recommendations/",
            recommendations_report_view,
            name="recommendations_report",
        )
    ]


@hooks.register("register_reports_menu_item")
def recommendations_report_menu_item():
    from django.urls import reverse
    from django.utils.translation import gettext_lazy
    from wagtail.admin.menu import AdminOnlyMenuItem

    return AdminOnlyMenuItem(
        gettext_lazy("Recommendations"),
        reverse("recommendations_report"),
        name="recommendations-report",
        icon_name="pick",
        order=900,
    )
