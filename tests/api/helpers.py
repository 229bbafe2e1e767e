"""Test helpers for the API: clients that speak for a visitor, and reading resolved bodies."""

from __future__ import annotations

import re
import uuid

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from personalization.api.authentication import visitor_token_issue

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36"
SEGMENT_MARKER = re.compile(r'class="personalized" data-segment="([^"]*)"')
VARIANT_MARKER = re.compile(r'class="experiment" data-experiment="([^"]*)" data-variant="([^"]*)"')


def api_as(visitor_uuid: uuid.UUID | None = None, *, user=None, **headers) -> APIClient:
    """An API client that names `visitor_uuid` by a visitor token (and `user` by an API token)."""
    client = APIClient(HTTP_USER_AGENT=DESKTOP)
    credentials = dict(headers)
    if visitor_uuid is not None:
        credentials["HTTP_X_VISITOR_TOKEN"] = visitor_token_issue(visitor_uuid).token
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        credentials["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    client.credentials(**credentials)
    return client


def walk_blocks(blocks: list) -> list[dict]:
    """Every block of a resolved body, depth first in document order."""
    found = []
    for block in blocks:
        if not isinstance(block, dict) or "type" not in block:
            continue
        found.append(block)
        value = block.get("value")
        if isinstance(value, list):
            found += walk_blocks(value)
        elif isinstance(value, dict):
            for inner in value.values():
                if isinstance(inner, list):
                    found += walk_blocks(inner)
    return found


def api_segments(body: list) -> list[str]:
    """The segment each per-segment block chose, as the site's data-segment attribute says it."""
    return [
        str(block["chosen"]["segment"] or "default")
        for block in walk_blocks(body)
        if "segment" in block.get("chosen", {})
    ]


def api_variants(body: list) -> list[tuple[str, str]]:
    """(experiment, variant) of each A/B-test block, in document order."""
    return [
        (block["chosen"]["experiment"], block["chosen"]["variant"])
        for block in walk_blocks(body)
        if "experiment" in block.get("chosen", {})
    ]


def site_segments(html: str) -> list[str]:
    return SEGMENT_MARKER.findall(html)


def site_variants(html: str) -> list[tuple[str, str]]:
    return VARIANT_MARKER.findall(html)
