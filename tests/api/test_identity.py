"""Who the client is: forwarding headers (X-Forwarded-For, X-Forwarded-Proto) count only from
API_TRUSTED_PROXIES, so no client names its own throttle identity or the scheme of the URLs the
API answers with."""

from __future__ import annotations

import re
import uuid

import pytest
from rest_framework.test import APIClient

from tests.api.helpers import api_as

pytestmark = pytest.mark.django_db
STRANGER = "203.0.113.9"  # a client connecting directly, not a trusted proxy


def goal(api: APIClient, **headers) -> int:
    body = {"type": "goal", "name": "g"}
    return api.post("/api/v1/events/", body, format="json", **headers).status_code


def test_a_client_cannot_escape_the_address_limit_with_its_own_x_forwarded_for(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "ip": "3/minute"}
    codes = [
        goal(
            api_as(uuid.uuid4(), REMOTE_ADDR=STRANGER),
            HTTP_X_FORWARDED_FOR=f"198.51.100.{number}",
        )
        for number in range(5)
    ]
    assert codes == [202, 202, 202, 429, 429]


def test_the_api_log_in_limit_holds_whatever_x_forwarded_for_says(settings, staff):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "login": "2/minute"}
    bad = {"username": "someone@example.com", "password": "wrong"}
    codes = [
        APIClient(REMOTE_ADDR=STRANGER)
        .post("/api/v1/auth-token/", bad, format="json", HTTP_X_FORWARDED_FOR=f"10.9.8.{n}")
        .status_code
        for n in range(4)
    ]
    assert codes == [400, 400, 429, 429]


def test_behind_a_trusted_proxy_each_client_is_counted_by_the_address_the_proxy_saw(settings):
    """The proxy (127.0.0.1, trusted by default) appends the address it saw; what a client put
    before it is its own word and is ignored."""
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "ip": "2/minute"}
    first = [
        goal(api_as(uuid.uuid4()), HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 198.51.100.7")
        for n in range(3)
    ]
    second = goal(api_as(uuid.uuid4()), HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert first == [202, 202, 429]
    assert second == 202


def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy(settings):
    """With two trusted hops (a CDN in 192.0.2.0/24, then the local proxy) the client is the
    address the CDN saw, not the CDN's own."""
    settings.API_TRUSTED_PROXIES = ["127.0.0.1/32", "192.0.2.0/24"]
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "ip": "1/minute"}
    chain = "198.51.100.20, 192.0.2.10"
    other = "198.51.100.21, 192.0.2.10"
    assert goal(api_as(uuid.uuid4()), HTTP_X_FORWARDED_FOR=chain) == 202
    assert goal(api_as(uuid.uuid4()), HTTP_X_FORWARDED_FOR=chain) == 429
    assert goal(api_as(uuid.uuid4()), HTTP_X_FORWARDED_FOR=other) == 202


def _absolute_urls(settings, **client_headers) -> set[str]:
    """The schemes of the absolute URLs (image renditions) in the API's home page, asked for
    with X-Forwarded-Proto: https as production settings read it."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    api = APIClient(**client_headers)
    response = api.get("/api/v1/pages/find/", {"path": "/"}, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    return set(re.findall(r'"(https?)://testserver[:/]', response.content.decode()))


def test_a_client_sent_x_forwarded_proto_does_not_change_the_api_urls(settings):
    assert _absolute_urls(settings, REMOTE_ADDR=STRANGER) == {"http"}


def test_a_trusted_proxy_says_the_request_came_over_https(settings):
    assert _absolute_urls(settings, REMOTE_ADDR="127.0.0.1") == {"https"}
