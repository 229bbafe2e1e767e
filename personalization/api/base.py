"""What every API view does, whatever it answers."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError

from personalization.api.authentication import reload_visitor
from personalization.api.caching import mark_private
from personalization.api.throttles import throttles_count


class APIDefaultsMixin:
    """Loads the visitor for the authenticated caller, refuses a query parameter given twice
    (400 naming it), and keeps every answer (errors included) private and unstored unless the
    view chose otherwise: nothing reaches a shared cache by accident."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Load the visitor with the user DRF authenticated (an API token's member), not the
        # session user the middleware saw.
        reload_visitor(request._request)
        repeated = [name for name, values in request.query_params.lists() if len(values) > 1]
        if repeated:
            raise ValidationError(
                {name: [gettext("Give this parameter once.")] for name in repeated}
            )

    def check_throttles(self, request):
        """DRF's check, with every Redis-backed throttle counted in one round trip."""
        throttles = self.get_throttles()
        throttles_count(throttles, request, self)
        waits = [t.wait() for t in throttles if not t.allow_request(request, self)]
        if waits:
            self.throttled(request, max((w for w in waits if w is not None), default=None))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if not response.has_header("Cache-Control"):
            mark_private(response, store=False)
        return response
