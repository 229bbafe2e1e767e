"""The site's log-in form is limited like the API's token requests (API_THROTTLE_RATES["login"]),
per account and per address: over the limit no password is checked, not even the right one."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
STRANGER = "203.0.113.9"


@pytest.fixture(autouse=True)
def _three_attempts_a_minute(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "login": "3/minute"}


def log_in(client, username: str, password: str, address: str = STRANGER):
    return client.post(
        "/account/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_wrong_passwords_then_the_right_one_is_refused_with_a_message(client, member):
    codes = [log_in(client, member.email, f"guess-{n}").status_code for n in range(3)]
    refused = log_in(client, member.email, PASSWORD)
    assert codes == [400, 400, 400]
    assert refused.status_code == 429
    assert "Too many log-in attempts. Try again in 1 minute." in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 60
    assert SESSION_KEY not in client.session


def test_one_account_is_limited_whatever_address_the_attempts_come_from(client, member):
    for n in range(3):
        log_in(client, member.email.upper(), f"guess-{n}", address=f"198.51.100.{n}")
    refused = log_in(client, member.email, PASSWORD, address="198.51.100.99")
    assert refused.status_code == 429
    assert SESSION_KEY not in client.session


def test_one_address_is_limited_whatever_accounts_it_tries(client, member):
    for n in range(3):
        log_in(client, f"someone-{n}@example.com", "guess")
    refused = log_in(client, member.email, PASSWORD)
    assert refused.status_code == 429
    assert SESSION_KEY not in client.session
    elsewhere = log_in(client, member.email, PASSWORD, address="198.51.100.50")
    assert elsewhere.status_code == 302  # the member, from their own address


def test_a_forwarded_for_header_from_a_client_does_not_give_it_new_attempts(client, member):
    for n in range(3):
        client.post(
            "/account/login/",
            {"username": f"someone-{n}@example.com", "password": "guess"},
            REMOTE_ADDR=STRANGER,
            HTTP_X_FORWARDED_FOR=f"10.1.1.{n}",
        )
    assert log_in(client, "another@example.com", "guess").status_code == 429


def test_the_site_and_the_api_share_the_limits_of_an_address_and_an_account(client, member):
    for n in range(3):
        APIClient(REMOTE_ADDR=f"198.51.100.{n}").post(
            "/api/v1/auth-token/", {"username": member.email, "password": "g"}, format="json"
        )
    assert log_in(client, member.email, PASSWORD).status_code == 429
    for n in range(3):
        APIClient(REMOTE_ADDR="198.51.100.60").post(
            "/api/v1/auth-token/", {"username": f"x{n}@example.com", "password": "g"}
        )
    assert log_in(client, "y@example.com", "g", address="198.51.100.60").status_code == 429


def test_attempts_within_the_limit_log_in(client, member):
    log_in(client, member.email, "guess")
    response = log_in(client, member.email, PASSWORD)
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(member.pk)
