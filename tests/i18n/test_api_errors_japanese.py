"""The API's own error messages follow the client's language (Accept-Language): a Japanese
frontend shows its members Japanese messages, an English one English, with the same fields."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def visitor_api(language: str) -> tuple[APIClient, str]:
    api = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    token = api.post("/api/v1/visitors/").json()["visitor_token"]
    return api, token


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ja", "true か false を指定してください。"), ("en", "Must be true or false.")],
)
def test_a_consent_error_is_in_the_clients_language(language, expected):
    api, token = visitor_api(language)
    response = api.patch(
        "/api/v1/consent/", {"marketing": "maybe"}, format="json", HTTP_X_VISITOR_TOKEN=token
    )
    assert response.status_code == 400
    assert response.json()["marketing"] == [expected]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ja", "name、pet、またはその両方を送ってください。"), ("en", "Send name, pet or both.")],
)
def test_a_traits_error_is_in_the_clients_language(language, expected):
    api, token = visitor_api(language)
    response = api.patch("/api/v1/visitor/", {}, format="json", HTTP_X_VISITOR_TOKEN=token)
    assert response.status_code == 400
    assert expected in str(response.json())


def test_a_missing_page_and_a_bad_log_in_answer_in_japanese():
    api = APIClient(HTTP_ACCEPT_LANGUAGE="ja")
    missing = api.get("/api/v1/pages/find/", {"path": "/no-such-page/"})
    assert missing.status_code == 404
    assert missing.json()["detail"] == "このパスに公開中のページはありません。"
    log_in = api.post(
        "/api/v1/auth-token/", {"username": "nobody@example.com", "password": "x"}, format="json"
    )
    assert log_in.status_code == 400
    assert "この内容ではログインできません。" in str(log_in.json())
