"""Page endpoints (resolved for the visitor), editor preview, staff experiment reports and
members' API tokens."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import generics, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from wagtail.models import Page

from cms.api import render_cache as render_cache_api
from cms.api.languages import HEADER as LANGUAGE_HEADER
from cms.api.languages import (
    LOCALE_PARAMETER,
    requested_language,
    split_language_prefix,
    translated,
)
from cms.api.pages import (
    check_view_restrictions,
    children_vary_by_viewer,
    page_document,
    page_path,
    page_resolved,
    section_page,
    site_pages,
    visible_pages,
)
from cms.api.preview import PreviewGrant, preview_page, preview_token_issue, preview_token_read
from cms.api.resolve import BodyResolution
from cms.api.serializers import (
    AuthTokenRequestSerializer,
    AuthTokenSerializer,
    ExperimentReportSerializer,
    ExperimentSerializer,
    GoalResultsSerializer,
    PageDetailSerializer,
    PageFindQuerySerializer,
    PageListQuerySerializer,
    PageSummarySerializer,
    PreviewQuerySerializer,
    PreviewTokenRequestSerializer,
    PreviewTokenSerializer,
    ResultsQuerySerializer,
)
from experiments.models import Experiment
from experiments.selectors import experiment_report, experiment_results
from personalization.api.base import APIDefaultsMixin
from personalization.api.caching import mark_private, public_response
from personalization.api.mixins import CONTEXT_PARAMETERS, VisitorContextMixin
from personalization.api.pagination import ListingPagination
from personalization.api.serializers import MAX_PAGE_ID
from personalization.api.throttles import LoginAccountRateThrottle, LoginRateThrottle
from personalization.models import Segment

PAGE_RESPONSES = {
    200: PageDetailSerializer,
    304: OpenApiResponse(description="Not modified (If-None-Match with the page's ETag)."),
    401: OpenApiResponse(description="Log in to read this page (members-only)."),
    403: OpenApiResponse(description="This member may not read this page."),
    404: OpenApiResponse(description="No such live page."),
}


def query(serializer_class, request) -> dict:
    """Validated query parameters (400 naming the bad one; an empty value is a bad one)."""
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# PAGES
# ------------------------------------------------------------------------------


class PageResponseMixin(VisitorContextMixin):
    """Answers with a page resolved for the visitor: private when anything in it depends on the
    visitor, else public with an ETag. Served from the render cache (`cms.api.render_cache`)
    unless it is off: `locator` names the page there, `locate()` finds it (or raises 404)."""

    def page_response(
        self, locator: str, locate: Callable[[], Page], path_language: str | None = None
    ) -> Response:
        """The page in the language asked for (`cms.api.languages`): its translation, resolved
        with that language active, so the render cache keys the two languages apart."""
        language = requested_language(self.request._request, path_language)
        if language is not None:
            locator, find = f"{locator}@{language}", locate

            def locate() -> Page:
                return translated(find(), language)

        with translation.override(language or translation.get_language()):
            if render_cache_api.enabled(self.request._request):
                response = render_cache_api.page_response(self, locator, locate)
            else:
                response = self.page_resolved_response(locate())
            response["Content-Language"] = translation.get_language()
        patch_vary_headers(response, (LANGUAGE_HEADER,))
        return response

    def page_resolved_response(self, page: Page) -> Response:
        django_request = self.request._request
        restricted = check_view_restrictions(page, django_request)
        visitor_request = self.visitor_request(path=page_path(page, django_request))
        state = BodyResolution(visitor_request)
        document, served = page_resolved(visitor_request, page, state)
        if state.personalized or restricted or children_vary_by_viewer(served):
            return mark_private(Response(document))
        return public_response(django_request, document, max_age=settings.API_PUBLIC_MAX_AGE)


@extend_schema(parameters=[PageListQuerySerializer, LOCALE_PARAMETER], summary="List pages")
class PageListView(APIDefaultsMixin, generics.ListAPIView):
    """Live pages the caller may see (members-only pages only for members), without bodies."""

    serializer_class = PageSummarySerializer
    pagination_class = ListingPagination

    def get_queryset(self):
        params = query(PageListQuerySerializer, self.request)
        language = requested_language(self.request._request)
        pages = visible_pages(self.request._request, language)
        if "type" in params:
            app_label, model = params["type"].split(".")
            pages = pages.filter(
                content_type__app_label=app_label, content_type__model=model.lower()
            )
        if "parent" in params:
            parent = Page.objects.filter(pk=params["parent"]).first()
            pages = pages.child_of(parent) if parent is not None else pages.none()
        if "section" in params:
            section = section_page(self.request._request, params["section"], language)
            pages = pages.descendant_of(section, inclusive=True) if section else pages.none()
        return pages.order_by("path")


class PageDetailView(APIDefaultsMixin, PageResponseMixin, APIView):
    """One page by id, resolved for the visitor."""

    @extend_schema(
        parameters=[*CONTEXT_PARAMETERS, LOCALE_PARAMETER],
        responses=PAGE_RESPONSES,
        summary="Get a page",
    )
    def get(self, request, pk: int):
        if pk > MAX_PAGE_ID:
            raise NotFound()
        return self.page_response(
            f"id:{pk}", lambda: get_object_or_404(site_pages(request._request), pk=pk)
        )


class PageFindView(APIDefaultsMixin, PageResponseMixin, APIView):
    """One page by its path on the site, resolved for the visitor."""

    @extend_schema(
        parameters=[PageFindQuerySerializer, *CONTEXT_PARAMETERS, LOCALE_PARAMETER],
        responses=PAGE_RESPONSES,
        summary="Find a page by path",
    )
    def get(self, request):
        path = query(PageFindQuerySerializer, request)["path"]
        # /ja/dogs/ is the Japanese site's /dogs/ (what the site's address says).
        path_language, site_path = split_language_prefix(path)

        def locate() -> Page:
            with translation.override(path_language or settings.LANGUAGE_CODE):
                page = Page.find_for_request(request._request, site_path)
            if page is None:
                raise NotFound(gettext("No live page at this path."))
            return page

        return self.page_response(f"path:{path}", locate, path_language)


class PagePreviewView(APIDefaultsMixin, VisitorContextMixin, APIView):
    """The latest draft of a page as chosen segments see it, for the holder of a preview token."""

    @extend_schema(
        parameters=[PreviewQuerySerializer],
        responses={200: PageDetailSerializer, 401: OpenApiResponse(description="Bad token.")},
        summary="Preview a draft (headless preview)",
    )
    def get(self, request):
        grant = preview_token_read(query(PreviewQuerySerializer, request)["token"])
        page = preview_page(grant)
        draft = page.specific.get_latest_revision_as_object()
        visitor_request = self.visitor_request(path=page_path(page, request._request))
        visitor_request.is_preview = True
        visitor_request.personalization_preview_segments = list(grant.segment_ids)
        document = page_document(draft, BodyResolution(visitor_request), preview=True)
        return Response(document)


class PreviewTokenView(APIDefaultsMixin, APIView):
    """Editors mint preview tokens for pages they may edit."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=PreviewTokenRequestSerializer,
        responses={201: PreviewTokenSerializer},
        summary="Mint a preview token (editors)",
    )
    def post(self, request):
        incoming = PreviewTokenRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        grant = PreviewGrant(
            incoming.validated_data["page"],
            tuple(incoming.validated_data["segments"]),
            request.user.pk,
        )
        self.check_grant(grant)
        token, expires_at = preview_token_issue(grant)
        url = request.build_absolute_uri(f"/api/v1/pages/preview/?token={token}")
        body = PreviewTokenSerializer({"token": token, "expires_at": expires_at, "url": url}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @staticmethod
    def check_grant(grant: PreviewGrant) -> None:
        if preview_page(grant) is None:
            raise ValidationError({"page": [gettext("No page with this id that you may edit.")]})
        known = set(Segment.objects.filter(pk__in=grant.segment_ids).values_list("pk", flat=True))
        unknown = [i for i, s in enumerate(grant.segment_ids) if s not in known]
        if unknown:
            raise ValidationError(
                {"segments": {i: [gettext("No segment with this id.")] for i in unknown}}
            )


# EXPERIMENTS (STAFF)
# ------------------------------------------------------------------------------


@extend_schema(summary="List experiments (staff)")
class ExperimentListView(APIDefaultsMixin, generics.ListAPIView):
    """Every experiment with its variants and goals (staff only)."""

    permission_classes = [IsAdminUser]
    serializer_class = ExperimentSerializer
    pagination_class = ListingPagination

    def get_queryset(self):
        return (
            Experiment.objects.select_related("winner")
            .prefetch_related("variants", "goals", "target_segments")
            .order_by("-created_at", "pk")
        )


class ExperimentResultsView(APIDefaultsMixin, APIView):
    """The figures of the admin report and its CSV: the verdict, every goal overall and the
    primary goal per segment, with p-values adjusted over all of them, and the cumulative series.
    Rates, uplifts and chances are fractions (0.1 = 10 %)."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        parameters=[ResultsQuerySerializer],
        responses={
            200: PolymorphicProxySerializer(
                component_name="ExperimentResults",
                serializers=[ExperimentReportSerializer, GoalResultsSerializer],
                resource_type_field_name=None,
            ),
            404: OpenApiResponse(description="No such key."),
        },
        summary="Experiment results (staff)",
    )
    def get(self, request, key: str):
        params = query(ResultsQuerySerializer, request)
        experiment = get_object_or_404(
            Experiment.objects.select_related("winner", "snapshot"), key=key
        )
        if "goal" not in params:
            report = experiment_report(experiment=experiment)
            return Response(ExperimentReportSerializer(report).data)
        goal = experiment.goals.filter(pk=params["goal"]).first()
        if goal is None:
            raise ValidationError({"goal": [gettext("Not a goal of this experiment.")]})
        results = experiment_results(experiment=experiment, goal=goal)
        return Response(GoalResultsSerializer(results).data)


# MEMBERS' API TOKENS
# ------------------------------------------------------------------------------


class AuthTokenView(APIDefaultsMixin, APIView):
    """Exchange a member's email and password for an API token (or revoke it); attempts are
    limited per address and per account, as on the site's log-in form."""

    throttle_classes = [LoginRateThrottle, LoginAccountRateThrottle]

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "DELETE" else []

    @extend_schema(
        request=AuthTokenRequestSerializer,
        responses={200: AuthTokenSerializer},
        summary="Get an API token",
    )
    def post(self, request):
        credentials = AuthTokenRequestSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        user = authenticate(request._request, **credentials.validated_data)
        if user is None:
            raise ValidationError(
                {"non_field_errors": [gettext("Unable to log in with these details.")]}
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @extend_schema(request=None, responses={204: None}, summary="Revoke your API token")
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
