"""Property-based tests of the API against its own OpenAPI schema (schemathesis): every operation,
with schema-valid and schema-violating input, as a visitor and as staff, must answer without a 5xx
and exactly as the schema documents (status codes, content types, headers, bodies).

Bounded and reproducible: a fixed number of examples per operation (SCHEMATHESIS_EXAMPLES,
25 by default), derandomized. One built-in
check is left out: `positive_data_acceptance` expects every schema-valid request to succeed, but
some rules are about data, not shape (a page id that exists, the right password, a timestamp
within the retention window, purchase events only from staff); those answer a documented 400
naming the field, which the other checks still validate."""

from __future__ import annotations

import os
import uuid

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from personalization.api.authentication import visitor_token_issue

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))  # more: a deeper local run


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """Calls go through the plain WSGI handler, whose end-of-request signal would close the
    database connection (and with it the test's transaction on PostgreSQL); Django's own test
    client detaches the same receiver."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    """The API's own schema, served by the app and loaded once for this module."""
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/v1/schema/", WSGIHandler())


def exercise(operation, mode: GenerationMode, headers: dict[str, str]) -> None:
    """Run EXAMPLES generated cases of one operation and validate every response."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def takes_input(operation) -> bool:
    """Whether an operation has anything to get wrong (else no negative case exists)."""
    return any(len(p) for p in (operation.path_parameters, operation.query, operation.body))


def test_the_schema_is_valid_openapi_3_and_covers_every_endpoint(api_schema):
    paths = {operation.path for operation in operations(api_schema)}
    assert paths == {
        "/api/v1/auth-token/", "/api/v1/consent/", "/api/v1/events/", "/api/v1/experiments/",
        "/api/v1/experiments/{key}/results/", "/api/v1/pages/", "/api/v1/pages/{id}/",
        "/api/v1/pages/find/", "/api/v1/pages/preview/", "/api/v1/preview-tokens/",
        "/api/v1/segments/", "/api/v1/visitor/", "/api/v1/visitor/export/", "/api/v1/visitors/",
        "/api/v1/personalization/holdouts/", "/api/v1/decide/", "/api/v1/products/",
        "/api/v1/products/{sku}/", "/api/v1/favourites/", "/api/v1/favourites/{sku}/",
    }  # fmt: skip


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_a_visitor_gets_no_server_error_and_no_schema_violation(api_schema, mode):
    headers = {"X-Visitor-Token": visitor_token_issue(uuid.uuid4()).token}
    for operation in operations(api_schema):
        if mode == GenerationMode.POSITIVE or takes_input(operation):
            exercise(operation, mode, headers)


def test_staff_get_no_server_error_and_no_schema_violation(api_schema, staff):
    token, _ = Token.objects.get_or_create(user=staff)
    headers = {"Authorization": f"Token {token.key}"}
    for operation in operations(api_schema):
        exercise(operation, GenerationMode.POSITIVE, headers)
