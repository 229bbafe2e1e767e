"""The Wagtail header of the project's own admin views: `admin_header(title, *crumbs)` gives
the context `wagtailadmin/generic/base.html` needs for the slim header with breadcrumbs (Home,
the crumbs, the page itself), its icon and buttons — the same header as Wagtail's listings and
edit views, so a custom page never looks like a different application."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _


def admin_header(
    title: str, *crumbs: dict, icon: str = "", buttons: list | None = None
) -> dict[str, Any]:
    """Context for the header of a page titled `title`, reached through `crumbs`
    ({"url": ..., "label": ...} each, after Home)."""
    return {
        "page_title": title,
        "header_title": title,
        "header_icon": icon,
        "header_buttons": buttons or [],
        "breadcrumbs_items": [
            {"url": reverse("wagtailadmin_home"), "label": _("Home")},
            *crumbs,
            {"url": "", "label": title},
        ],
    }
