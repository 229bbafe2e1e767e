"""Which pages a request may see: Wagtail's view restrictions (log-in, groups, password) decided
exactly as the site decides them when it serves a page, for the site's listings and the API alike.

`.public()` is not that rule: it hides every restricted page from everyone, so a member who may
read the members' pages would find their section empty."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from wagtail.models import Page, PageViewRestriction
from wagtail.query import PageQuerySet


def view_restrictions_over(page: Page) -> QuerySet[PageViewRestriction]:
    """The view restrictions that apply to `page` or anything below it (its ancestors' too)."""
    steps = range(Page.steplen, len(page.path), Page.steplen)
    ancestors = [page.path[:length] for length in steps]
    return PageViewRestriction.objects.filter(
        Q(page__path__startswith=page.path) | Q(page__path__in=ancestors)
    )


def view_restrictions_below(page: Page) -> QuerySet[PageViewRestriction]:
    """The view restrictions on `page`'s descendants: what makes its listing differ by viewer."""
    return PageViewRestriction.objects.filter(
        page__path__startswith=page.path, page__depth__gt=page.depth
    )


def refused_view_restrictions(
    *, request: HttpRequest, restrictions: QuerySet[PageViewRestriction] | None = None
) -> list[PageViewRestriction]:
    """The restrictions (all of them, or those given) that this request does not pass."""
    if restrictions is None:
        restrictions = PageViewRestriction.objects.all()
    restrictions = restrictions.select_related("page").prefetch_related("groups")
    return [r for r in restrictions if not r.accept_request(request)]


def pages_visible(
    pages: PageQuerySet,
    *,
    request: HttpRequest,
    restrictions: QuerySet[PageViewRestriction] | None = None,
) -> PageQuerySet:
    """`pages` without those under a view restriction the request does not pass."""
    for restriction in refused_view_restrictions(request=request, restrictions=restrictions):
        pages = pages.exclude(path__startswith=restriction.page.path)
    return pages


def page_children_visible(*, page: Page, request: HttpRequest) -> PageQuerySet:
    """The live children of `page` the request may see, in tree order: what a section lists on
    the site and in the API."""
    children = page.get_children().live()
    visible = pages_visible(children, request=request, restrictions=view_restrictions_over(page))
    return visible.specific().order_by("path")
