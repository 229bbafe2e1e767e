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
