"""Latency of the personalized page endpoint against Wagtail's own API v2 for the same page.

    .venv/bin/python bench/api.py [--rounds 300] [--write docs/benchmarks.md]

Builds a throwaway test database (in-memory SQLite, or a `test_` database on the server that
DATABASE_URL names), loads the demo site, and requests each page through Django's test client,
in-process (no network, no web server): `/api/v1/pages/{id}/` for one returning visitor (visitor
token), `/api/v2/pages/{id}/` (Wagtail's API v2, registered here only for the comparison, with
the page's fields and body exposed as `api_fields`), and the HTML page itself. Requests are
interleaved so that drift affects all three alike. Single process, one core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import types
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import path  # noqa: E402

from bench.report import machine_description, write_section  # noqa: E402

WARM_UP = 20
PAGES = (("/", "home page (personalized: greeting, segment block, offer, A/B hero)"),
         ("/cats/litter-that-works/", "article (the same for everyone)"))  # fmt: skip


def v2_urlconf() -> types.ModuleType:
    """The project's URLs plus Wagtail's API v2 pages endpoint at /api/v2/ (bench only)."""
    from wagtail.api import APIField
    from wagtail.api.v2.router import WagtailAPIRouter
    from wagtail.api.v2.views import PagesAPIViewSet

    from cms.models import ContentPage, HomePage, SectionPage
    from config import urls

    fields = {
        HomePage: ["hero_title", "hero_text", "hero_image", "hero_cta_label", "body"],
        SectionPage: ["intro", "image", "body"],
        ContentPage: ["intro", "hero_image", "body", "tags"],
    }
    for model, names in fields.items():
        model.api_fields = [APIField(name) for name in names]
    router = WagtailAPIRouter("wagtailapi")
    router.register_endpoint("pages", PagesAPIViewSet)
    module = types.ModuleType("bench_api_urls")
    module.urlpatterns = [path("api/v2/", router.urls), *urls.urlpatterns]
    return module


def timed(client: Client, url: str, **headers) -> float:
    """Milliseconds for one request (which must succeed)."""
    start = time.perf_counter()
    response = client.get(url, **headers)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def summary(samples: list[float]) -> tuple[float, float]:
    """(median, p99) in milliseconds."""
    return statistics.median(samples), statistics.quantiles(samples, n=100)[98]


def measure(page_path: str, rounds: int) -> dict[str, tuple[float, float]]:
    """Median and p99 of the three ways to get one page, interleaved."""
    from wagtail.models import Page

    from personalization.api.authentication import visitor_token_issue

    page = Page.find_for_request(RequestFactory().get(page_path), page_path)
    token = visitor_token_issue(uuid.uuid4()).token
    client = Client(HTTP_X_VISITOR_TOKEN=token, HTTP_USER_AGENT="Mozilla/5.0 (bench)")
    targets = {
        "/api/v1/pages/{id}/ (resolved for the visitor)": f"/api/v1/pages/{page.pk}/",
        "/api/v2/pages/{id}/ (Wagtail API v2, unresolved)": f"/api/v2/pages/{page.pk}/",
        "HTML page (site)": page_path,
    }
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for round_number in range(WARM_UP + rounds):
        for name, url in targets.items():
            elapsed = timed(client, url)
            if round_number >= WARM_UP:
                samples[name].append(elapsed)
    return {name: summary(values) for name, values in samples.items()}


def table(results: dict[str, dict[str, tuple[float, float]]]) -> list[str]:
    lines = ["| page | endpoint | median | p99 |", "|---|---|---:|---:|"]
    for label, rows in results.items():
        for endpoint, (median, p99) in rows.items():
            lines.append(f"| {label} | `{endpoint}` | {median:.1f} ms | {p99:.1f} ms |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--write", help="Markdown file to update with the results")
    args = parser.parse_args()
    command = "`.venv/bin/python bench/api.py --rounds {}{}`".format(
        args.rounds, f" --write {args.write}" if args.write else ""
    )
    print(f"Command: {command}")
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        call_command("load_demo", "--no-progress", verbosity=0)
        with override_settings(ROOT_URLCONF=v2_urlconf()):
            results = {label: measure(page_path, args.rounds) for page_path, label in PAGES}
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    lines = table(results)
    print("\n".join(lines))
    if args.write:
        write_section(Path(args.write), "api", "API latency", [
            f"Command: {command}",
            "",
            "Time for one request through the whole Django stack (middleware, authentication, "
            "resolution, serialization) with Django's test client in-process, for one returning "
            f"visitor, {args.rounds:,} interleaved requests per endpoint after {WARM_UP} warm-up "
            "rounds; demo site on an in-memory SQLite database, local-memory cache, jobs inline. "
            "`/api/v1/` resolves the body for the visitor (segments, greeting, offer cap, A/B "
            "variant, image renditions, expanded rich text); Wagtail's API v2 returns the stored "
            "StreamField as is, every segment's variant included.",
            "",
            *lines,
            "",
            machine_description(),
        ])  # fmt: skip


if __name__ == "__main__":
    main()
