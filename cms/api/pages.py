"""Pages as API documents, and which pages a request may see (Wagtail's view restrictions, decided
exactly as the site decides them)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from wagtail.models import Page, Site

from cms.api.languages import translated
from cms.api.resolve import BodyResolution, image_json, page_link_json, stream_json
from cms.models import ContentPage, HomePage, SectionPage
from cms.selectors import page_children_visible, pages_visible, view_restrictions_below
from experiments.services import page_variant
from personalization.api.datetimes import api_datetime
from personalization.resolver import resolve


def page_path(page: Page, request: HttpRequest) -> str:
    """The page's URL path on the site (what the site's request.path is for it)."""
    return urlsplit(page.get_url(request=request) or "/").path or "/"


def iso(moment) -> str | None:
    """A timestamp as the API writes them (ISO 8601 in the site's time zone)."""
    return api_datetime(moment)


def page_section(page: Page) -> str | None:
    """The slug of the top-level section the page is in (None for the home page)."""
    parts = [p for p in page.url_path.split("/") if p]
    return parts[1] if len(parts) >= 2 else None


def site_pages(request: HttpRequest):
    """Live pages of the request's site, in every language (under its home page and the home
    page's translations)."""
    site = Site.find_for_request(request)
    if site is None:
        return Page.objects.none()
    under = Q(path__startswith=site.root_page.path)
    for path in site.root_page.get_translations().values_list("path", flat=True):
        under |= Q(path__startswith=path)
    return Page.objects.live().filter(under)


def section_page(request: HttpRequest, slug: str, language: str | None = None) -> Page | None:
    """The top-level section of the request's site with this slug (in `language`)."""
    site = Site.find_for_request(request)
    if site is None:
        return None
    return translated(site.root_page, language).get_children().filter(slug=slug).first()


def visible_pages(request: HttpRequest, language: str | None = None):
    """Live pages of the site in one language (`language`, or the home page's), without those
    under a restriction the request does not pass."""
    site = Site.find_for_request(request)
    if site is None:
        return Page.objects.none()
    pages = site_pages(request).filter(locale=translated(site.root_page, language).locale_id)
    return pages_visible(pages, request=request)


def check_view_restrictions(page: Page, request: HttpRequest) -> bool:
    """401 for an anonymous caller, 403 for a member, when the site would not show the page;
    else whether the page is restricted at all (then it must never be shared by a cache)."""
    return restrictions_check(list(page.get_view_restrictions()), request)


def restrictions_check(restrictions, request: HttpRequest) -> bool:
    """`check_view_restrictions` with the page's restrictions already at hand (the render
    cache's route)."""
    for restriction in restrictions:
        if restriction.accept_request(request):
            continue
        if not request.user.is_authenticated:
            raise NotAuthenticated(gettext("Log in to read this page."))
        raise PermissionDenied(gettext("This page is not available to you."))
    return bool(restrictions)


def card_image(page: Page):
    """The picture a page is listed with."""
    return getattr(page, "card_image", None) or getattr(page, "hero_image", None)


def page_summary(page: Page, request: HttpRequest) -> dict:
    """A page's listing fields (no body)."""
    page = page.specific
    return {
        "id": page.pk,
        "type": page._meta.label,
        "title": page.title,
        "slug": page.slug,
        "url": page.get_url(request=request),
        "section": page_section(page),
        "intro": getattr(page, "intro", "") or "",
        "image": image_json(card_image(page), request, alt=""),
        "first_published_at": iso(page.first_published_at),
        "last_published_at": iso(page.last_published_at),
        "detail_url": f"/api/v1/pages/{page.pk}/",
    }


def hero_json(page: Page, request: HttpRequest) -> dict | None:
    """The home page's hero (None for other page types)."""
    if not isinstance(page, HomePage):
        return None
    return {
        "title": page.hero_title or page.title,
        "text": page.hero_text,
        "cta_label": page.hero_cta_label,
        "cta_page": page_link_json(page.hero_cta_page, request),
    }


def page_children(page: Page, request: HttpRequest) -> list[dict]:
    """What a section lists: its live child pages the caller may see (as the site's section page
    does)."""
    if not isinstance(page, SectionPage):
        return []
    children = page_children_visible(page=page, request=request)
    return [page_summary(child, request) for child in children]


def children_vary_by_viewer(page: Page) -> bool:
    """Whether the page's listed children depend on who asks (some are under a restriction)."""
    return isinstance(page.specific, SectionPage) and view_restrictions_below(page).exists()


def page_meta(state: BodyResolution, *, preview: bool) -> dict:
    """What decided the body: the page's segments the visitor matched, tests, block choices."""
    matched = resolve(state.request).segments if state.segment_ids else []
    segments = [
        {"id": s.id, "slug": s.slug, "name": s.name} for s in matched if s.id in state.segment_ids
    ]
    return {
        "personalized": state.personalized,
        "preview": preview,
        "segments": segments,
        "experiments": state.experiments,
        "blocks": state.blocks,
    }


def page_resolved(request: HttpRequest, page: Page, state: BodyResolution) -> tuple[dict, Page]:
    """(document, the page served): the page, or the variant of its page-level experiment the
    visitor of `request` is assigned (noted in `state`), resolved for them."""
    served, choice = page_variant(request, page.specific)
    if choice is not None:
        state.personalized = True
        state.experiments.append(choice.meta)
    return page_document(served, state), served


def page_document(page: Page, state: BodyResolution, *, preview: bool = False) -> dict:
    """A page with its body resolved for the visitor of `state.request`."""
    page = page.specific
    request = state.request
    parent = page.get_parent()
    document = {
        **page_summary(page, request),
        "parent": parent.pk if parent is not None and parent.depth > 1 else None,
        "seo_title": page.seo_title,
        "search_description": page.search_description,
        "hero": hero_json(page, request),
        "tags": list(page.tags.names()) if isinstance(page, ContentPage) else [],
        "children": page_children(page, request),
        "body": stream_json(getattr(page, "body", None), state),
    }
    document["meta"] = page_meta(state, preview=preview)
    return document
