"""The experiment form's guardrails: a "Guardrail" tick and "Harm is" per goal, the owner (by
default the editor creating the experiment) and "Pause on harm". A goal both primary and
guardrail, a guardrail measuring the same thing as the primary goal, and only guardrails (no
primary) are form errors, never a 500; a single goal that is not a guardrail is still the primary
goal automatically."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from experiments.models import Experiment

pytestmark = pytest.mark.django_db
ADD = "/admin/experiments/add/"
SIGN_UP = {"name": "Sign-up", "is_primary": "on", "kind": "event", "event_type": "sign_up"}
UNSUBSCRIBE = {
    "name": "Unsubscribe",
    "kind": "custom",
    "custom_name": "unsubscribe",
    "is_guardrail": "on",
    "harm_direction": "increase",
}


@pytest.fixture
def admin():
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def editor(client, admin):
    client.force_login(admin)
    return client


def form(goals=(SIGN_UP, UNSUBSCRIBE), **extra):
    return nested_form_data(
        {
            "name": "Guarded",
            "key": "guarded",
            "hypothesis": "",
            "coverage": 1,
            "hash_seed": "",
            "variants": inline_formset(
                [{"name": "control", "weight": "50"}, {"name": "b", "weight": "50"}]
            ),
            "goals": inline_formset([{"include_descendants": "on", **g} for g in goals]),
            **extra,
        }
    )


def saved(response) -> Experiment:
    assert response.status_code == 302, _errors(response)
    return Experiment.objects.get(key="guarded")


def _errors(response) -> str:
    html = response.content.decode()
    return " ".join(re.findall(r'class="error-message"[^>]*>\s*(?:<p>)?([^<]+)', html)) or html


def refused(response, message: str) -> None:
    assert response.status_code == 200
    assert message in response.content.decode().replace("&quot;", '"')
    assert not Experiment.objects.filter(key="guarded").exists()


def test_the_form_offers_guardrail_harm_owner_and_pause(editor, admin):
    html = editor.get(ADD).content.decode()
    assert 'name="goals-__prefix__-is_guardrail"' in html
    assert 'name="goals-__prefix__-harm_direction"' in html
    assert 'name="pause_on_harm"' in html
    owner = re.search(r'<select name="owner".*?</select>', html, re.S).group(0)
    assert re.search(rf'<option value="{admin.pk}" selected>', owner)  # the creating editor


def test_a_guardrail_is_saved_with_its_direction_owner_and_pause(editor, admin):
    decrease = {**UNSUBSCRIBE, "name": "Purchases", "kind": "event", "event_type": "purchase"}
    decrease["harm_direction"] = "decrease"
    data = form(goals=(SIGN_UP, UNSUBSCRIBE, decrease), owner=admin.pk, pause_on_harm="on")
    experiment = saved(editor.post(ADD, data))
    assert experiment.owner == admin and experiment.pause_on_harm
    goals = {g.name: g for g in experiment.goals.all()}
    assert goals["Sign-up"].is_primary and not goals["Sign-up"].is_guardrail
    assert goals["Unsubscribe"].is_guardrail and goals["Unsubscribe"].harm_direction == "increase"
    assert goals["Purchases"].harm_direction == "decrease" and not goals["Purchases"].is_primary


def test_the_owner_is_chosen_among_admin_users_only(editor):
    member = get_user_model().objects.create_user(username="member", email="m@example.com")
    staff = get_user_model().objects.create_user(username="staffer", email="s@example.com")
    staff.groups.add(Group.objects.get(name="Editors"))
    owner = re.search(
        r'<select name="owner".*?</select>', editor.get(ADD).content.decode(), re.S
    ).group(0)
    assert f'value="{staff.pk}"' in owner and f'value="{member.pk}"' not in owner
    refused(editor.post(ADD, form(owner=member.pk)), "Select a valid choice")


def test_a_goal_cannot_be_both_primary_and_guardrail(editor):
    both = {**SIGN_UP, "is_guardrail": "on", "harm_direction": "decrease"}
    refused(
        editor.post(ADD, form(goals=(both, UNSUBSCRIBE))),
        "A goal is either the primary goal or a guardrail, not both",
    )


@pytest.mark.parametrize(
    "guardrail",
    [
        {"kind": "event", "event_type": "sign_up", "harm_direction": "decrease"},
        {"kind": "event", "event_type": "sign_up", "min_amount": "10"},
    ],
)
def test_a_guardrail_equal_to_the_primary_goal_is_a_form_error(editor, guardrail):
    same = {**UNSUBSCRIBE, "name": "Sign-ups again", "custom_name": "", **guardrail}
    refused(
        editor.post(ADD, form(goals=(SIGN_UP, same))),
        "This guardrail measures the same thing as the primary goal “Sign-up”",
    )


def test_a_guardrail_on_the_primary_custom_event_is_a_form_error(editor):
    primary = {"name": "Joined", "is_primary": "on", "kind": "custom", "custom_name": "joined"}
    same = {**UNSUBSCRIBE, "custom_name": " joined "}
    refused(editor.post(ADD, form(goals=(primary, same))), "measures the same thing as the primary")


def test_a_guardrail_on_another_event_of_the_same_kind_is_fine(editor):
    other = {**UNSUBSCRIBE, "kind": "event", "event_type": "remove_from_cart"}
    experiment = saved(editor.post(ADD, form(goals=(SIGN_UP, other))))
    assert experiment.goals.filter(is_guardrail=True).count() == 1


def test_only_guardrails_is_a_form_error(editor):
    refused(
        editor.post(ADD, form(goals=(UNSUBSCRIBE,))),
        "Every goal is a guardrail, so there is no primary goal",
    )


def test_a_single_goal_beside_guardrails_is_the_primary_goal(editor):
    unmarked = {k: v for k, v in SIGN_UP.items() if k != "is_primary"}
    experiment = saved(editor.post(ADD, form(goals=(unmarked, UNSUBSCRIBE))))
    assert experiment.goals.get(name="Sign-up").is_primary
    assert not experiment.goals.get(name="Unsubscribe").is_primary


def test_two_unmarked_goals_beside_a_guardrail_still_need_a_primary(editor):
    unmarked = {k: v for k, v in SIGN_UP.items() if k != "is_primary"}
    purchase = {**unmarked, "name": "Purchase", "event_type": "purchase"}
    refused(
        editor.post(ADD, form(goals=(unmarked, purchase, UNSUBSCRIBE))),
        "Mark exactly one goal as the primary goal.",
    )
