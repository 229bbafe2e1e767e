"""Pagination of API listings: `?limit=&offset=`, 20 by default, at most 100. Strict: a limit or
offset that is not a whole number in range is a 400 naming it, never silently replaced."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 1_000_000


class ListingPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100

    @staticmethod
    def _whole_number(request, name: str, low: int, high: int, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
            raise ValidationError(
                {
                    name: [
                        gettext("Give a whole number from %(low)d to %(high)d.")
                        % {"low": low, "high": high}
                    ]
                }
            )
        return int(raw)

    def get_limit(self, request) -> int:
        return self._whole_number(request, self.limit_query_param, 1, self.max_limit,
                                  self.default_limit)  # fmt: skip

    def get_offset(self, request) -> int:
        return self._whole_number(request, self.offset_query_param, 0, MAX_OFFSET, 0)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
