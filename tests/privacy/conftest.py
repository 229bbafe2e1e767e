"""The privacy endpoints' tests use the API's fixtures (generous throttles, staff)."""

from tests.api.conftest import _generous_throttles, staff  # noqa: F401 - the API's fixtures
