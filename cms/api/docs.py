"""Interactive API docs served entirely from this site: Swagger UI and Redoc come from
drf-spectacular-sidecar's static files, and Redoc is given the system fonts instead of the
Google Fonts its stock page links to."""

from __future__ import annotations

import threading

from django.http import HttpResponse
from django.template import engines
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

_schema_lock = threading.Lock()

REDOC_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <title>{{ title }}</title>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>body { margin: 0; padding: 0; }</style>
  </head>
  <body>
    <redoc spec-url="{{ schema_url }}"></redoc>
    <script src="{{ redoc_standalone }}"></script>
  </body>
</html>
"""


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, built by one thread of a process at a time. drf-spectacular
    resolves its extensions' target classes lazily and not thread-safely (a class it cannot
    import is set to None while another thread still reads it as a string:
    tfranzel/drf-spectacular#1122), so concurrent first requests to a fresh threaded worker
    all answered 500."""

    def _get_schema_response(self, request):
        with _schema_lock:
            return super()._get_schema_response(request)


class LocalRedocView(SpectacularRedocView):
    """Redoc with no request to any other host."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        page = engines["django"].from_string(REDOC_PAGE)
        context = {
            "title": self.title,
            "schema_url": self._get_schema_url(request),
            "redoc_standalone": self._redoc_standalone(),
        }
        return HttpResponse(page.render(context, request))
