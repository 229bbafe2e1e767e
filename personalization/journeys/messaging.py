"""How journey messages are written and delivered: editor templates rendered in a sandboxed
template engine, emails with a one-click unsubscribe link, and HMAC-signed webhooks.

Editor templates run in their own `Engine` with Django's built-in tags and filters only: no
`{% load %}`-able libraries and no template loaders, so `{% include %}` / `{% extends %}` cannot
read files, and every value is auto-escaped in HTML.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.template import Context, Engine, TemplateSyntaxError
from django.utils.html import escape
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Pawprint-Signature"
_engine = Engine(libraries={}, loaders=[], autoescape=True)
_text_engine = Engine(libraries={}, loaders=[], autoescape=False)


class TemplateInvalid(ValueError):
    """An editor template Django cannot parse."""


def template_check(source: str) -> None:
    """Raise `TemplateInvalid` with the parser's message when `source` is not a valid template."""
    if not source:
        return
    try:
        _engine.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(_("Template syntax error: %(error)s") % {"error": exc}) from exc


def render(source: str, variables: dict[str, Any], *, html: bool) -> str:
    """Fill an editor template (escaped for HTML, verbatim for plain text and subjects)."""
    engine = _engine if html else _text_engine
    return engine.from_string(source).render(Context(variables))


# EMAIL
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def email_render(template, variables: dict[str, Any]) -> RenderedEmail:
    """Subject and bodies of `template` for these variables, with the unsubscribe link ensured."""
    subject = " ".join(render(template.subject, variables, html=False).split())[:250]
    text = render(template.body_text, variables, html=False)
    link = variables["unsubscribe_url"]
    if link not in text:
        line = _("Unsubscribe: %(link)s") % {"link": link}
        text = f"{text.rstrip()}\n\n--\n{line}\n"
    body_html = ""
    if template.body_html:
        body_html = render(template.body_html, variables, html=True)
        if link not in body_html:
            label = escape(_("Unsubscribe"))
            body_html += f'\n<p style="font-size:12px"><a href="{escape(link)}">{label}</a></p>'
    return RenderedEmail(subject, text, body_html)


def email_send(*, recipient: str, email: RenderedEmail, unsubscribe_link: str) -> None:
    """Send through Django's email backend, with RFC 8058 one-click unsubscribe headers."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        to=[recipient],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    message.send()


# WEBHOOKS
# ------------------------------------------------------------------------------


class WebhookFailed(Exception):
    """The endpoint timed out, refused, or answered with an error status."""


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value: `t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def webhook_post(*, url: str, secret: str, payload: dict, timeout: float) -> int:
    """POST `payload` as signed JSON; the status code, or `WebhookFailed`."""
    if not url.lower().startswith(("http://", "https://")):
        raise WebhookFailed(f"not an http(s) URL: {url[:60]}")
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Pawprint-Journeys/1",
            SIGNATURE_HEADER: webhook_signature(secret, int(time.time()), body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        raise WebhookFailed(f"HTTP {exc.code}") from exc
    except TimeoutError as exc:
        raise WebhookFailed("timed out") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise WebhookFailed(f"unreachable: {getattr(exc, 'reason', exc)}") from exc
