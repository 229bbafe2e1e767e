"""django-rq's dashboard in the admin, answering "Redis is not reachable" instead of a 500 while
Redis is down."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns
from django_rq.views import each_context
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def redis_unreachable_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a dashboard view so that a Redis failure shows a page saying so."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except RedisError as exc:
            logger.warning("RQ dashboard: Redis is not reachable (%s)", exc)
            return render(request, "django_rq/redis_unreachable.html", each_context(request))

    return wrapped


def rq_dashboard_urlpatterns() -> list[URLPattern]:
    """django-rq's URLs with its admin views wrapped (include them under the `django_rq`
    namespace)."""
    return get_api_urlpatterns() + get_admin_urlpatterns(view_wrapper=redis_unreachable_page)
