"""Webhook steps: a signed POST to a real local HTTP server; an endpoint that times out is
retried with backoff and then recorded as failed, not retried forever."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from freezegun import freeze_time

from personalization.journeys.delivery import webhook_deliver
from personalization.journeys.engine import journeys_evaluate
from personalization.journeys.messaging import SIGNATURE_HEADER
from personalization.journeys.models import (
    Journey,
    JourneyMessage,
    JourneyStatus,
    JourneyStep,
    MessageStatus,
    StepAction,
    TriggerKind,
)
from tests.journeys.helpers import MORNING, shopper, track

pytestmark = pytest.mark.django_db


class Endpoint(BaseHTTPRequestHandler):
    """Records what it receives; sleeps `delay` seconds before answering."""

    received: list[tuple[dict, bytes]] = []
    delay = 0.0

    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(self.delay)
        type(self).received.append((dict(self.headers), body))
        try:
            self.send_response(204)
            self.end_headers()
        except OSError:
            pass  # the client gave up waiting

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint():
    Endpoint.received, Endpoint.delay = [], 0.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook_journey(endpoint) -> JourneyStep:
    Journey.objects.update(status=JourneyStatus.PAUSED)
    journey = Journey.objects.create(
        name="Tell the CRM",
        status=JourneyStatus.ACTIVE,
        trigger=TriggerKind.EVENT,
        trigger_event="sign_up",
    )
    return JourneyStep.objects.create(
        journey=journey, action=StepAction.WEBHOOK, webhook_url=endpoint
    )


def pending_message(step: JourneyStep) -> JourneyMessage:
    track(shopper(), "sign_up")
    journeys_evaluate()
    return JourneyMessage.objects.get(step=step)


def test_a_webhook_is_posted_once_with_a_valid_signature(webhook_journey):
    with freeze_time(MORNING):
        message = pending_message(webhook_journey)
        assert message.status == MessageStatus.PENDING
        assert webhook_deliver(message_id=message.pk) == MessageStatus.SENT
        assert webhook_deliver(message_id=message.pk) == "gone"  # already delivered
    [(headers, body)] = Endpoint.received
    timestamp, signature = (part.split("=", 1)[1] for part in headers[SIGNATURE_HEADER].split(","))
    expected = hmac.new(
        webhook_journey.webhook_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert json.loads(body)["journey"] == "Tell the CRM"


def test_a_timing_out_endpoint_is_retried_with_backoff_then_recorded_failed(
    settings, webhook_journey
):
    settings.JOURNEY_WEBHOOK_TIMEOUT = 0.5
    Endpoint.delay = 1.5
    with freeze_time(MORNING) as clock:
        message = pending_message(webhook_journey)
        waits = []
        for _ in range(4):
            webhook_deliver(message_id=message.pk)
            message.refresh_from_db()
            if message.next_attempt_at:
                waits.append((message.next_attempt_at - timezone.now()).total_seconds())
                clock.move_to(message.next_attempt_at)
        assert message.status == MessageStatus.FAILED
        assert message.attempts == 4
        assert "timed out" in message.detail
        assert waits == [60, 300, 1800]
        clock.tick(datetime.timedelta(days=1))
        assert journeys_evaluate()["webhooks"] == 0  # never retried again
        assert webhook_deliver(message_id=message.pk) == "gone"


def test_due_retries_go_back_to_the_queue(settings, webhook_journey, run_jobs):
    settings.JOURNEY_WEBHOOK_TIMEOUT = 0.5
    Endpoint.delay = 1.5
    with freeze_time(MORNING) as clock:
        message = pending_message(webhook_journey)
        webhook_deliver(message_id=message.pk)  # first attempt times out
        Endpoint.delay = 0.0
        clock.tick(datetime.timedelta(seconds=61))
        with run_jobs():
            assert journeys_evaluate()["webhooks"] == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
