"""Journeys in the Wagtail admin: editors build one from trigger and steps; bad input (negative
window or delay, a template with a syntax error, a webhook that is not http(s)) is refused with
a message on save; the report and the background jobs page are a click away."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from personalization.journeys.models import EmailTemplate, Journey

pytestmark = pytest.mark.django_db
JOURNEY_ADD = "/admin/personalization/journeys/add/"
TEMPLATE_ADD = "/admin/personalization/email-templates/add/"


@pytest.fixture
def editor_client(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def step(**fields) -> dict:
    return {
        "delay_amount": 0,
        "delay_unit": "hours",
        "action": "on_site",
        "email_template": "",
        "message_title": "",
        "message_text": "Hello!",
        "message_link": "",
        "webhook_url": "",
        "webhook_secret": "s3cret",
        **fields,
    }


def journey_form(name="Browse abandonment", steps=None, **fields) -> dict:
    return nested_form_data(
        {
            "name": name,
            "description": "",
            "status": "active",
            "trigger": "event_without",
            "trigger_event": "page_view",
            "trigger_name": "",
            "follow_up_event": "add_to_cart",
            "window_amount": 1,
            "window_unit": "days",
            "segment": "",
            "goal_event": "purchase",
            "attribution_days": 7,
            "steps": inline_formset(steps if steps is not None else [step()], min=1),
            **fields,
        }
    )


def test_an_editor_builds_a_journey(editor_client):
    response = editor_client.post(JOURNEY_ADD, journey_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    journey = Journey.objects.get(name="Browse abandonment")
    assert journey.window.days == 1
    assert [s.message_text for s in journey.steps.all()] == ["Hello!"]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"window_amount": -2}, "The window cannot be negative."),
        ({"steps": [step(delay_amount=-1)]}, "The delay cannot be negative."),
        ({"attribution_days": -1}, "The attribution window cannot be negative."),
        ({"follow_up_event": ""}, "Choose the event that cancels the journey."),
        ({"steps": [step(action="webhook", webhook_url="ftp://example.com/hook")]}, "http"),
        ({"steps": [step(action="webhook", webhook_url="javascript:alert(1)")]}, "http"),
        ({"steps": [step(action="email")]}, "Choose the email to send."),
        ({"steps": [step(message_text="Hi {% if name %}")]}, "Template syntax error"),
        ({"steps": [step(message_title="{{ name|shout }}")]}, "Template syntax error"),
    ],
)
def test_bad_journeys_are_refused_with_a_message(editor_client, form, message):
    steps = form.pop("steps", None)
    response = editor_client.post(JOURNEY_ADD, journey_form(steps=steps, **form))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Journey.objects.filter(name="Browse abandonment").exists()


def test_an_email_template_with_a_syntax_error_is_refused(editor_client):
    response = editor_client.post(
        TEMPLATE_ADD,
        {
            "name": "Broken",
            "subject": "Hello {{ name|shout }}",
            "body_text": "{% for item in cart.items %}no end",
            "body_html": "",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Template syntax error") == 2
    assert not EmailTemplate.objects.filter(name="Broken").exists()


def test_an_email_template_cannot_load_tag_libraries_or_files(editor_client):
    response = editor_client.post(
        TEMPLATE_ADD,
        {
            "name": "Sneaky",
            "subject": "{% load static %}Hi",
            "body_text": "Hi",
            "body_html": "",
        },
    )
    assert response.status_code == 200
    assert "Template syntax error" in response.content.decode()


def test_the_journey_report_shows_each_step(editor_client):
    journey = Journey.objects.get(name="Cart abandonment")
    response = editor_client.get(f"/admin/personalization/journeys/report/{journey.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Suppressed by cap" in html and "Converted" in html
    assert "Send an email after 0 hours" in html


def test_staff_find_background_jobs_in_the_admin_menu(editor_client):
    html = editor_client.get("/admin/").content.decode()
    assert "/admin/background-jobs/" in html and "Background jobs" in html
    assert editor_client.get("/admin/background-jobs/").status_code == 200


def test_editors_who_are_not_staff_do_not_see_it(client):
    from django.contrib.auth.models import Permission

    editor = get_user_model().objects.create_user("editor", "editor@example.com", "pw")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    assert "/admin/background-jobs/" not in client.get("/admin/").content.decode()
    # Wagtail answers a refused admin page by sending the editor home with a message.
    response = client.get("/admin/background-jobs/")
    assert response.status_code == 302 and response.url == "/admin/"
