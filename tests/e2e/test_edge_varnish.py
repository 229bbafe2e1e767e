"""The shipped Varnish configuration (deploy/varnish/default.vcl) in front of the site in edge
mode (issue 17 §4): Debian's varnishd on a loopback port, the live server behind it.

Visitors of one segment share one cached object and each sees their own holes; another
segment's visitors never get it; a key a client sends is ignored; a members-only page never
comes from the cache. The test needs `varnishd` (Debian's `varnish`): with `CI` set it is
required (`.ci/run` installs it), otherwise the test is skipped with the command to install it.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from wagtail.models import PageViewRestriction

from personalization.events.models import Event, EventType
from personalization.models import Visitor
from tests.cms.edge_helpers import publish_edge_page
from tests.factories import MemberFactory
from tests.personalization.helpers import signed_visitor_cookie

# Like every browser test: the live server needs committed rows, and the demo data comes back
# after (without serialized rollback the flush recreates content types under new ids, and the
# next browser test's restore collides with them).
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROOT = Path(__file__).resolve().parents[2]
VCL = ROOT / "deploy" / "varnish" / "default.vcl"
HOST = "127.0.0.1"
CSRF_SECRET = "e" * 32


def in_ci() -> bool:
    """Whether `CI` is set (as `.ci/run` does): then Varnish is required, as chromium is."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def varnishd_path() -> str | None:
    found = shutil.which("varnishd") or "/usr/sbin/varnishd"
    return found if os.access(found, os.X_OK) else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@pytest.fixture
def varnish(site, tmp_path):
    """varnishd with the shipped VCL pointed at the live server; yields its port."""
    binary = varnishd_path()
    if binary is None:
        message = "varnishd is missing: apt-get install varnish"
        if in_ci():
            pytest.fail(f"{message} (required with CI set; .ci/run installs it)")
        pytest.skip(message)
    origin = urlsplit(site("/"))
    vcl = tmp_path / "default.vcl"
    vcl.write_text(VCL.read_text().replace('.port = "8000";', f'.port = "{origin.port}";'))
    port = free_port()
    log = tmp_path / "varnishd.log"
    command = [binary, "-F", "-j", "none", "-n", str(tmp_path / "varnish"), "-f", str(vcl)]
    command += ["-a", f"{HOST}:{port}", "-s", "malloc,32m", "-T", "none"]
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603
            command, stdout=out, stderr=out, start_new_session=True
        )
    try:
        _wait_until_listening(process, port, log)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_until_listening(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"varnishd did not listen: {log.read_text()[-3000:]}")


class Browser:
    """One visitor's browser talking to Varnish: keeps the cookies it is given."""

    def __init__(self, port: int, cookies: dict[str, str]) -> None:
        self.port = port
        self.cookies = dict(cookies)

    def get(self, path: str, **headers: str) -> tuple[http.client.HTTPResponse, str]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request("GET", path, headers={"Cookie": cookie, **headers} if cookie else headers)
        response = conn.getresponse()
        body = response.read().decode()
        conn.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        return response, body


def returning_visitor(port: int, **traits) -> tuple[Browser, Visitor]:
    """A visitor who has been here before: their visitor and CSRF cookies, these traits."""
    visitor = Visitor.objects.create(uuid=uuid.uuid4(), traits=traits, visit_count=2)
    cookies = {
        django_settings.VISITOR_COOKIE_NAME: signed_visitor_cookie(visitor.uuid),
        django_settings.CSRF_COOKIE_NAME: CSRF_SECRET,
    }
    return Browser(port, cookies), visitor


def hits(response) -> bool:
    """Varnish served it from its cache: X-Varnish names this request and the object's."""
    return (
        response.getheader("X-Cache") == "HIT" and len(response.getheader("X-Varnish").split()) == 2
    )


def test_varnish_shares_one_copy_per_segment_fills_each_visitors_holes_and_keeps_members_pages(
    varnish, settings, drain_jobs
):
    settings.RENDER_CACHE_EDGE = True
    settings.RENDER_CACHE_EDGE_SECRET = "varnish-test-secret"
    page = publish_edge_page()
    path = page.url

    # The first dog person's view: the origin has not rendered their key yet, so it passes.
    first, _ = returning_visitor(varnish, pet="dog", name="First")
    response, html = first.get(path)
    assert response.status == 200 and response.getheader("X-Cache") == "PASS"
    assert "Welcome back, First!" in html

    # Two more dog people: the first is a miss that stores the shared copy, the second a hit.
    aiko, _ = returning_visitor(varnish, pet="dog", name="Aiko")
    ben, ben_visitor = returning_visitor(varnish, pet="dog", name="Ben")
    response, html_aiko = aiko.get(path)
    assert response.status == 200 and response.getheader("X-Cache") == "MISS"
    response, html_ben = ben.get(path)
    assert response.status == 200 and hits(response), response.getheaders()
    assert "private" in response.getheader("Cache-Control")
    for html, own, other in ((html_aiko, "Aiko", "Ben"), (html_ben, "Ben", "Aiko")):
        assert f"Welcome back, {own}!" in html and other not in html
        assert "DOG-VARIANT" in html and "DEFAULT-VARIANT" not in html
        assert "<esi:" not in html and "/_edge/hole/" not in html
        assert re.search(r'name="csrfmiddlewaretoken" value="\w+"', html)
    drain_jobs()
    # Ben's view came from the cache, and still counts: once.
    views = Event.objects.filter(type=EventType.PAGE_VIEW, visitor=ben_visitor, page_id=page.pk)
    assert views.count() == 1

    # A cat person gets the default variant, never the dogs' copy, and shares theirs.
    cats = [returning_visitor(varnish, pet="cat")[0] for _ in range(3)]
    served = [cat.get(path) for cat in cats]
    assert [r.getheader("X-Cache") for r, _ in served] == ["PASS", "MISS", "HIT"]
    for _, html in served:
        assert "DEFAULT-VARIANT" in html and "DOG-VARIANT" not in html

    # A key the client sends is dropped: the dogs' key gets a cat nothing of the dogs'.
    dogs_key = aiko.get(path)[0].getheader("X-Personalization-Key")
    assert dogs_key
    response, html = cats[0].get(path, **{"X-Personalization-Key": dogs_key})
    assert hits(response) and "DEFAULT-VARIANT" in html and "DOG-VARIANT" not in html
    assert response.getheader("X-Personalization-Key") != dogs_key
    stranger = Browser(varnish, {})  # no cookies: decide gives no key, theirs is not taken
    response, html = stranger.get(path, **{"X-Personalization-Key": dogs_key})
    assert response.getheader("X-Cache") == "PASS"
    assert "DEFAULT-VARIANT" in html and "DOG-VARIANT" not in html

    # Now members only: nobody outside is served the page, cached a moment ago or not.
    PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
    member = MemberFactory()
    session = Client()
    session.force_login(member)
    member_browser, _ = returning_visitor(varnish)
    member_browser.cookies[django_settings.SESSION_COOKIE_NAME] = session.cookies[
        django_settings.SESSION_COOKIE_NAME
    ].value
    for _ in range(2):
        response, html = member_browser.get(path)
        assert response.status == 200 and response.getheader("X-Cache") == "PASS"
    for outsider in (ben, cats[1], returning_visitor(varnish, pet="dog")[0]):
        response, _ = outsider.get(path)
        assert response.status == 302, response.getheaders()
        assert "/account/login/" in response.getheader("Location")
        assert response.getheader("X-Cache") == "PASS"
