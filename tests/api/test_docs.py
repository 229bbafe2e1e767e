"""The OpenAPI schema, the interactive docs served without any CDN, and the CORS allow-list."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
CDN_HOSTS = ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "fonts.googleapis.com")


def test_the_schema_is_openapi_3_json_or_yaml():
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/pages/find/" in schema["paths"]
    assert not any(path.startswith("/admin") for path in schema["paths"])
    assert schema["components"]["securitySchemes"]["visitorToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Visitor-Token",
        "description": "Signed visitor token from POST /api/v1/visitors/.",
    }


@pytest.mark.parametrize("url", ["/api/v1/docs/", "/api/v1/docs/redoc/"])
def test_the_docs_load_every_asset_from_this_site(url):
    response = APIClient().get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for host in CDN_HOSTS:
        assert host not in html
    assets = re.findall(r'(?:src|href)="(/static/drf_spectacular_sidecar/[^"]+)"', html)
    assert assets
    for asset in assets:
        relative = asset.removeprefix("/static/")
        assert finders.find(relative), asset
    assert "/api/v1/schema/" in html


def test_an_allowed_origin_may_call_the_api_with_the_visitor_headers(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    preflight = APIClient().options(
        "/api/v1/pages/find/",
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-visitor-token, x-page-url",
    )
    assert preflight["Access-Control-Allow-Origin"] == "https://app.example.com"
    allowed = preflight["Access-Control-Allow-Headers"]
    assert "x-visitor-token" in allowed and "x-page-url" in allowed
    response = APIClient().get(
        "/api/v1/pages/find/", {"path": "/"}, HTTP_ORIGIN="https://app.example.com"
    )
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "ETag" in response["Access-Control-Expose-Headers"]


def test_other_origins_get_no_cors_grant(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = APIClient().get(
        "/api/v1/pages/find/", {"path": "/"}, HTTP_ORIGIN="https://evil.example"
    )
    assert "Access-Control-Allow-Origin" not in response
    site = APIClient().get("/", HTTP_ORIGIN="https://app.example.com")
    assert "Access-Control-Allow-Origin" not in site  # only the API is shared


FIRST_REQUESTS_AT_ONCE = """
import os, threading
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
answers, start = [], threading.Barrier(12)
def ask():
    client = Client(raise_request_exception=False)
    start.wait()
    answers.append(client.get("/api/v1/schema/", HTTP_HOST="localhost").status_code)
threads = [threading.Thread(target=ask) for _ in range(12)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
print(sorted(answers))
"""


def test_concurrent_first_requests_for_the_schema_in_a_fresh_process_all_succeed():
    """A threaded worker's first schema requests arriving together (drf-spectacular#1122)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    run = subprocess.run(
        [sys.executable, "-c", FIRST_REQUESTS_AT_ONCE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout.strip().splitlines()[-1] == str([200] * 12), run.stderr[-2000:]
