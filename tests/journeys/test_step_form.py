"""The step editor asks for the chosen action's fields only: an e-mail step saves without a
webhook URL or secret (and a hidden field of another action never blocks saving), a webhook step
requires both, and the editor page carries the script that hides the other actions' fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from personalization.journeys.forms import ACTION_FIELDS
from personalization.journeys.models import EmailTemplate, Journey
from tests.journeys.test_admin import JOURNEY_ADD, journey_form, step

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def email_step(**fields) -> dict:
    defaults = {
        "action": "email",
        "email_template": EmailTemplate.objects.first().pk,
        "message_text": "",
        "webhook_url": "",
        "webhook_secret": "",
    }
    return step(**{**defaults, **fields})


def test_an_email_step_saves_without_webhook_fields(editor_client):
    response = editor_client.post(JOURNEY_ADD, journey_form(steps=[email_step()]))
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Journey.objects.get(name="Browse abandonment").steps.get()
    assert saved.action == "email" and saved.webhook_url == ""
    # A secret is made anyway, so switching the step to a webhook later signs from the start.
    assert len(saved.webhook_secret) >= 32


def test_a_bad_webhook_url_left_in_an_email_step_does_not_block_saving(editor_client):
    form = journey_form(steps=[email_step(webhook_url="ftp://example.com/hook")])
    response = editor_client.post(JOURNEY_ADD, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Journey.objects.get(name="Browse abandonment").steps.get().webhook_url == ""


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"webhook_url": "", "webhook_secret": "s3cret"}, "Give the URL to POST to."),
        (
            {"webhook_url": "https://hooks.example.com/x", "webhook_secret": ""},
            "Give the secret that signs each POST.",
        ),
    ],
)
def test_a_webhook_step_requires_its_url_and_secret(editor_client, fields, message):
    form = journey_form(steps=[step(action="webhook", message_text="", **fields)])
    response = editor_client.post(JOURNEY_ADD, form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Journey.objects.filter(name="Browse abandonment").exists()


def test_a_webhook_step_with_both_saves(editor_client):
    form = journey_form(
        steps=[
            step(
                action="webhook",
                message_text="",
                webhook_url="https://hooks.example.com/x",
                webhook_secret="s3cret",
            )
        ]
    )
    assert editor_client.post(JOURNEY_ADD, form).status_code == 302
    saved = Journey.objects.get(name="Browse abandonment").steps.get()
    assert (saved.webhook_url, saved.webhook_secret) == ("https://hooks.example.com/x", "s3cret")


def test_the_editor_marks_the_action_and_loads_the_script_that_hides_other_fields(editor_client):
    html = editor_client.get(JOURNEY_ADD).content.decode()
    assert "journeys/js/step_fields.js" in html
    assert "data-journey-step-action" in html
    # The webhook secret is not a required field of the form any more.
    assert 'name="steps-__prefix__-webhook_secret"' in html
    assert 'name="steps-__prefix__-webhook_secret" required' not in html


def test_the_script_knows_the_same_fields_per_action_as_the_form():
    from django.contrib.staticfiles import finders

    script = Path(finders.find("journeys/js/step_fields.js")).read_text(encoding="utf-8")
    for action, fields in ACTION_FIELDS.items():
        quoted = ", ".join(f'"{field}"' for field in fields)
        assert f"{action}: [{quoted}]" in script
