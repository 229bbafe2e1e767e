"""Helpers for the personalization holdout tests: a running holdout, a page whose per-segment
block names what it shows, and visitors of a segment who browse the site and the API."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.http import HttpResponse

from cms.models import ContentPage, SectionPage
from experiments.holdouts import holdout_key, holdout_variants_set
from experiments.models import Experiment, ExperimentKind, Goal, GoalKind
from personalization.consent import CONSENT_COOKIE, CONSENT_SALT
from personalization.models import Segment
from tests.personalization.helpers import signed_visitor_cookie

PERSONALIZED_TEXT = "SHOWN:personalized"
DEFAULT_TEXT = "SHOWN:default"
SHOWN = re.compile(r"SHOWN:(personalized|default)")


def make_holdout(segment: Segment | None, share: float, *, start: bool = True) -> Experiment:
    """A holdout of `segment` (None: every segment) with a sign-up goal, running by default."""
    label = segment.name if segment is not None else "all segments"
    holdout = Experiment.objects.create(
        key=holdout_key(segment),
        name=f"Holdout: {label}",
        kind=ExperimentKind.HOLDOUT,
        holdout_segment=segment,
    )
    holdout_variants_set(experiment=holdout, share=share)
    Goal.objects.create(
        experiment=holdout,
        name="Sign-up",
        is_primary=True,
        kind=GoalKind.EVENT,
        event_type="sign_up",
    )
    if start:
        holdout.start()
    return holdout


def personalized_block(segments: list[Segment]) -> dict:
    """A raw per-segment block: each segment's variant and the default name themselves."""
    return {
        "type": "personalized",
        "value": {
            "variants": [
                {
                    "segment": str(segment.pk),
                    "content": [{"type": "paragraph", "value": f"<p>{PERSONALIZED_TEXT}</p>"}],
                }
                for segment in segments
            ],
            "default": [{"type": "paragraph", "value": f"<p>{DEFAULT_TEXT}</p>"}],
        },
    }


def publish_personalized_page(slug: str, segments: list[Segment]) -> ContentPage:
    parent = SectionPage.objects.get(slug="dogs")
    page = ContentPage(title=slug, slug=slug, intro="", body=[personalized_block(segments)])
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def visitor_uuid(number: int) -> uuid.UUID:
    """A fixed visitor id per number, so the split the tests see is the same on every run."""
    return uuid.UUID(int=(0x5EED << 96) + number, version=4)


def browse_as_uuid(client, uuid_: uuid.UUID, *, personalization: bool = True) -> None:
    client.cookies.clear()
    client.cookies[settings.VISITOR_COOKIE_NAME] = signed_visitor_cookie(uuid_)
    if not personalization:
        response = HttpResponse()
        response.set_signed_cookie(CONSENT_COOKIE, "a1p0m0", salt=CONSENT_SALT)
        client.cookies[CONSENT_COOKIE] = response.cookies[CONSENT_COOKIE].value


def shown(content: str) -> str:
    """Which of the block's contents a response shows: "personalized" or "default"."""
    found = SHOWN.findall(content)
    assert len(found) == 1, found
    return found[0]
