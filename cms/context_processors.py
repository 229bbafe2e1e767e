"""Template context every site page needs."""

from wagtail.models import Site


def site_navigation(request) -> dict:
    """The top navigation: the live, in-menu children of the site's root page (lazy)."""

    def menu_pages():
        site = Site.find_for_request(request)
        if site is None:
            return []
        return list(site.root_page.get_children().live().in_menu().order_by("path"))

    return {"nav_pages": menu_pages}


def render_cache_holes(request) -> dict:
    """While a page renders for the render cache, the CSRF token and the page's own address
    (forms' `next`) are placeholders filled per request (`cms.render_cache.holes`); otherwise
    `next_path` is the address itself."""
    from cms.holes import recording_of

    recording = recording_of(request)
    if recording is None:
        return {"next_path": request.get_full_path()}
    return {
        "csrf_token": recording.placeholder("csrf"),
        "next_path": recording.placeholder("path"),
    }
