"""Create the personalized bench page, its segments and the visitors' sessions from the spec;
print the page's path and the visitors' session cookies as JSON.

The segments: one per variant of the project's personalized bench page (same names), then
"Bench segment N" up to --segments, each with 1 to 5 rules of the package's kinds (time, day,
referral, visit count, query, device, logged in, origin country), none of which the bench's
visitors match (anonymous, desktop user agent, no referrer or query, no country header). The
package tests every enabled segment's rules on every page request, as its before_serve_page
hook does for any page.
"""

import datetime
import json
import random

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand
from django.db import transaction
from peer_shared.build import create_images, create_nav, home, load_spec, map_blocks, publish
from wagtail_personalisation import rules
from wagtail_personalisation.models import Segment

from wp_pages.models import BenchPage

NEVER = datetime.time(3, 17, 0)  # an empty time window: start == end, to the microsecond


def add_rule(segment: Segment, kind: str, rng: random.Random, page) -> None:
    """One rule of `kind` that no bench visitor matches."""
    if kind == "time":
        rules.TimeRule.objects.create(segment=segment, start_time=NEVER, end_time=NEVER)
    elif kind == "day":
        rules.DayRule.objects.create(segment=segment)  # no day ticked
    elif kind == "referral":
        rules.ReferralRule.objects.create(
            segment=segment, regex_string=rf"^https://partner-{rng.randint(1, 99)}\.example/"
        )
    elif kind == "visit_count":
        rules.VisitCountRule.objects.create(
            segment=segment, counted_page=page, operator="more_than", count=30_000
        )
    elif kind == "query":
        rules.QueryRule.objects.create(
            segment=segment, parameter="utm_campaign", value=f"spring-{rng.randint(1, 99)}"
        )
    elif kind == "device":
        rules.DeviceRule.objects.create(segment=segment, mobile=True, tablet=rng.random() < 0.5)
    elif kind == "logged_in":
        rules.UserIsLoggedInRule.objects.create(segment=segment, is_logged_in=True)
    elif kind == "country":
        rules.OriginCountryRule.objects.create(
            segment=segment, country=rng.choice(["jp", "us", "de", "fr", "kr"])
        )


KINDS = ["time", "day", "referral", "visit_count", "query", "device", "logged_in", "country"]


class Command(BaseCommand):
    help = "Create the wagtail-personalisation bench page from bench/pages.py's spec."

    def add_arguments(self, parser):
        parser.add_argument("spec")
        parser.add_argument("--segments", type=int, default=100)
        parser.add_argument("--visitors", type=int, default=300)
        parser.add_argument("--seed", type=int, default=7)

    @transaction.atomic  # one commit: hundreds of rows, set up in seconds on a busy machine
    def handle(self, *args, spec, segments, visitors, seed, **options):
        rng = random.Random(seed)
        spec = load_spec(spec)
        home_page = home()
        images = create_images(spec)
        create_nav(spec, BenchPage, home_page)
        page = publish(home_page, BenchPage(**spec["personalized"]))

        names = [variant["segment"] for variant in spec["variants"]]
        names += [f"Bench segment {i}" for i in range(segments - len(names))]
        created = []
        for i, name in enumerate(names):
            # Only persistent segments are ever shown by the package's blocks.
            segment = Segment.objects.create(name=name, persistent=i < len(spec["variants"]))
            for kind in rng.sample(KINDS, rng.randint(1, 5)):
                add_rule(segment, kind, rng, page)
            created.append(segment)

        personalised = [
            {
                "type": "personalised",
                "value": {"segment": str(segment.pk), "content": variant["content"]},
            }
            for segment, variant in zip(created, spec["variants"], strict=False)
        ]
        page.body = map_blocks(personalised + spec["default"] + spec["rest"], images, home_page)
        page.save_revision().publish()

        cookies = []
        for _ in range(visitors):
            session = SessionStore()
            session.create()
            cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
        self.stdout.write(json.dumps({"path": page.url, "cookies": cookies}))
