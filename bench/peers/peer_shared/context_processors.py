from wagtail.models import Site


def site_navigation(request) -> dict:
    """The top navigation, as the project's cms.context_processors builds it (lazy)."""

    def menu_pages():
        site = Site.find_for_request(request)
        if site is None:
            return []
        return list(site.root_page.get_children().live().in_menu().order_by("path"))

    return {"nav_pages": menu_pages}
