"""Errors under /api/v1/ are JSON, whatever raised them: Django's error handlers (an unknown
path, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, a server error) answer API paths with
`{"detail": ...}` as DRF does, and the site's paths with its own HTML pages."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext
from django.views import defaults
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

API_PREFIX = "/api/v1/"
logger = logging.getLogger(__name__)


def is_api_request(request: HttpRequest) -> bool:
    """Whether the request is for the headless API."""
    return request.path.startswith(API_PREFIX)


def too_big_detail() -> str:
    """The message of a 413: the limit, in bytes."""
    return gettext("The request body is too large: send at most %(limit)s bytes.") % {
        "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    }


def json_error(status_code: int, detail: str) -> JsonResponse:
    """An error answer as the API's own: `{"detail": ...}`, never stored by any cache."""
    response = JsonResponse({"detail": detail}, status=status_code)
    patch_cache_control(response, private=True, no_store=True)
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: a body over the size limit is a 413 under the API; other API 400s JSON."""
    if not is_api_request(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return json_error(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, too_big_detail())
    return json_error(status.HTTP_400_BAD_REQUEST, gettext("Bad request."))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: the API's unknown paths are JSON, not the site's page."""
    if not is_api_request(request):
        return defaults.page_not_found(request, exception)
    return json_error(status.HTTP_404_NOT_FOUND, gettext("Not found."))


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON under the API (nothing of the exception is shown; it is logged)."""
    if not is_api_request(request):
        return defaults.server_error(request)
    return json_error(
        status.HTTP_500_INTERNAL_SERVER_ERROR, gettext("Server error: please try again.")
    )


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, with a body over DATA_UPLOAD_MAX_MEMORY_SIZE answered 413 (Django raises
    it as a SuspiciousOperation, which DRF would pass on as a 400 page)."""
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": too_big_detail()}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    return exception_handler(exc, context)
