"""Helpers for the tests of bound variants and experiment usage: experiments with goals, raw
A/B blocks whose content names their variant, and the page editor's form data for them."""

from __future__ import annotations

import re
import uuid

from django.contrib.auth import get_user_model
from wagtail.test.utils.form_data import querydict_from_html

from experiments.models import Experiment, Goal, GoalKind, Variant

ARM_MARKER = re.compile(r"ARM:([a-z0-9-]+):([A-Za-z0-9_-]+)")


def make_experiment(
    key: str,
    names: list[str],
    *,
    weights: list[float] | None = None,
    page=None,
    coverage: float = 1.0,
) -> Experiment:
    """A draft experiment with these variants (the first is the control) and a primary goal."""
    experiment = Experiment.objects.create(key=key, name=key.replace("-", " ").title(), page=page)
    experiment.coverage = coverage
    experiment.save()
    weights = weights or [1 / len(names)] * len(names)
    for index, (name, weight) in enumerate(zip(names, weights, strict=True)):
        Variant.objects.create(experiment=experiment, name=name, weight=weight, sort_order=index)
    Goal.objects.create(
        experiment=experiment,
        name="Sign-up",
        is_primary=True,
        kind=GoalKind.EVENT,
        event_type="sign_up",
    )
    return experiment


def marker(key: str, variant: str) -> str:
    """Text that says which experiment's which variant a visitor was shown."""
    return f"ARM:{key}:{variant}"


def ab_block(key: str, variants: list[str]) -> dict:
    """A raw (stored) A/B block for `key` with one entry per name, each showing its marker."""
    return {
        "type": "experiment",
        "id": str(uuid.uuid4()),
        "value": {
            "experiment": key,
            "variants": [
                {
                    "type": "item",
                    "id": str(uuid.uuid4()),
                    "value": {
                        "variant": name,
                        "content": [
                            {
                                "type": "paragraph",
                                "id": str(uuid.uuid4()),
                                "value": f"<p>{marker(key, name)}</p>",
                            }
                        ],
                    },
                }
                for name in variants
            ],
        },
    }


def publish_body(page, blocks: list[dict]):
    """Publish `blocks` as the page's body, as code (not the editor) would: no validation."""
    page = page.specific
    page.body = blocks
    revision = page.save_revision()
    revision.publish()
    return revision


def admin_client(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def ab_block_form_data(prefix: str, key: str, variants: list[str]) -> dict:
    """The page editor's POST data for one A/B block at `prefix` (e.g. "body-0")."""
    data = {
        f"{prefix}-type": "experiment",
        f"{prefix}-deleted": "",
        f"{prefix}-order": "0",
        f"{prefix}-id": str(uuid.uuid4()),
        f"{prefix}-value-experiment": key,
        f"{prefix}-value-variants-count": str(len(variants)),
    }
    for index, name in enumerate(variants):
        item = f"{prefix}-value-variants-{index}"
        content = f"{item}-value-content"
        data |= {
            f"{item}-deleted": "",
            f"{item}-order": str(index),
            f"{item}-id": str(uuid.uuid4()),
            f"{item}-value-variant": name,
            f"{content}-count": "1",
            f"{content}-0-type": "heading",
            f"{content}-0-deleted": "",
            f"{content}-0-order": "0",
            f"{content}-0-id": str(uuid.uuid4()),
            f"{content}-0-value-text": marker(key, name or "blank"),
            f"{content}-0-value-level": "h2",
        }
    return data


def edit_page_data(client, page, body: dict, *, publish: bool = False) -> dict:
    """The page editor's form as loaded for `page`, with its body replaced by `body` (form data
    of the body's blocks, `body-count` included)."""
    html = client.get(f"/admin/pages/{page.pk}/edit/").content.decode()
    data = querydict_from_html(html, form_id="page-edit-form").dict()
    data = {k: v for k, v in data.items() if not k.startswith("body-")}
    data |= body
    if publish:
        data["action-publish"] = "action-publish"
    return data
