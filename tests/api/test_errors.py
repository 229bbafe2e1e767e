"""Errors under /api/v1/ are JSON, whatever went wrong: an unknown path, a body over the size
limit, a server error. (The site keeps its HTML pages.) The schema documents 414."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import path
from rest_framework.test import APIClient
from rest_framework.views import APIView

import config.urls

pytestmark = pytest.mark.django_db


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert isinstance(body.get("detail"), str) and body["detail"]
    assert "consent" not in response.content.decode().lower()  # not the site's page
    return body


@pytest.mark.parametrize(
    "url", ["/api/v1/nothing-here/", "/api/v1/pages/999999/", "/api/v1/pages/x/y/z/"]
)
def test_an_unknown_api_path_is_a_json_404(url):
    assert_json_error(APIClient().get(url), 404)


def test_the_site_keeps_its_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_body_over_the_size_limit_is_a_json_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"type": "goal", "name": "g", "properties": {"x": "a" * 20_000}})
    for method, url in (
        ("POST", "/api/v1/events/"),
        ("PATCH", "/api/v1/visitor/"),
        ("POST", "/api/v1/auth-token/"),
    ):
        response = APIClient().generic(method, url, body, content_type="application/json")
        detail = assert_json_error(response, 413)["detail"]
        assert "10000 bytes" in detail


def boom_view(request):
    raise RuntimeError("a bug")


class BoomAPIView(APIView):
    def get(self, request):
        raise RuntimeError("a bug in an API view")


urlpatterns = [
    path("api/v1/boom/", boom_view),
    path("api/v1/boom-api/", BoomAPIView.as_view()),
    path("boom/", boom_view),
    *config.urls.urlpatterns,
]
handler404 = config.urls.handler404
handler500 = config.urls.handler500
handler400 = config.urls.handler400


@pytest.mark.urls("tests.api.test_errors")
@pytest.mark.parametrize("url", ["/api/v1/boom/", "/api/v1/boom-api/"])
def test_a_server_error_under_the_api_is_a_json_500(url):
    response = Client(raise_request_exception=False).get(url)
    body = assert_json_error(response, 500)
    assert "bug" not in body["detail"]  # nothing of the exception leaks


@pytest.mark.urls("tests.api.test_errors")
def test_a_server_error_on_the_site_stays_html():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_the_schema_documents_414_for_over_long_query_strings():
    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    operations = [op for ops in schema["paths"].values() for op in ops.values()]
    assert operations and all("414" in op["responses"] for op in operations)
