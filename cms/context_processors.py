"""Template context every site page needs."""

from functools import cache

from wagtail.models import Site


def _home(request):
    """The site's home page in the request's language (its translation), or the site's own."""
    site = Site.find_for_request(request)
    if site is None:
        return None
    home = site.root_page.localized
    return home if home.live else site.root_page


def site_navigation(request) -> dict:
    """The top navigation: the live, in-menu children of the home page in the request's
    language, and that home page's address (both lazy, the home page found once)."""

    @cache
    def home():
        return _home(request)

    def menu_pages():
        if home() is None:
            return []
        return list(home().get_children().live().in_menu().order_by("path"))

    def home_url():
        return (home().get_url(request=request) if home() is not None else None) or "/"

    return {"nav_pages": menu_pages, "home_url": home_url}


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
