"""The render cache at the edge: a CDN or reverse proxy caches each page per opaque key.

Opt-in (`RENDER_CACHE_EDGE`). For each page view the proxy first asks the origin for the
visitor's **edge key** (`GET /api/v1/decide/?path=`, `cms.render_cache.views`): the HMAC of the
personalization key's digest and the content version (`store.version`), under a secret
(`RENDER_CACHE_EDGE_SECRET`, derived from SECRET_KEY when unset). Nothing in it is readable — no
segment id or name — and a new secret changes every key (its short key id shows which secret
made it). The proxy then looks the page up under (URL, key), `Vary: X-Personalization-Key`.

On a miss the proxy fetches the page with the key in `X-Personalization-Key`. The origin answers
with a shareable copy only when that key is exactly the one it computes for this request
(`accepted`); anything else — a forged key, a stale one (older generation or secret), none — is
treated as no key: the page is served as usual, private, never from another key's entry. The
shareable copy is the stored render with its holes turned into includes the proxy resolves per
visitor: ESI (`<esi:include>`) for Varnish and workers, SSI for nginx, as the proxy declares in
`Surrogate-Capability`. Each include names one hole of the stored render (signed, so it cannot
be forged) and is filled by an uncached fragment endpoint for the visitor asking.

Why includes rather than the proxy fetching a per-visitor JSON and patching the page: the
holes are already server-rendered HTML (forms, offers, the header), ESI is what Varnish does
natively, and the origin stays the only place that knows what a hole shows. The cost is one
small request per hole on each page view, all cheap (no page render, no routing).

Pages with a view restriction over them are never shared at the edge (decide gives no key, the
page stays private), and the edge keeps a copy half as long as the origin keeps the render its
includes name (each edge fetch refreshes the render's expiry).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import re
from dataclasses import dataclass
from types import SimpleNamespace

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpResponse, QueryDict
from django.utils.encoding import force_bytes

from cms import holes as holes_module
from cms.holes import CLOSE, MARKER, OPEN
from cms.render_cache import store
from personalization.context import UTM_KEYS
from personalization.middleware import read_visitor_cookie

KEY_HEADER = "X-Personalization-Key"
KEY_META = "HTTP_X_PERSONALIZATION_KEY"
CAPABILITY_META = "HTTP_SURROGATE_CAPABILITY"
VERSION = "v1"
MAX_KEY_LENGTH = 64  # a longer header is not ours: not even compared
HOLE_SALT = "cms.render_cache.edge.hole"
HOLE_PREFIX = "/_edge/hole/"
# Django's {% csrf_token %} with the render's placeholder as its value: an include cannot sit in
# an attribute, so the whole input becomes one.
CSRF_INPUT = re.compile(
    '<input type="hidden" name="csrfmiddlewaretoken" value="' + OPEN + r"(\d+)" + CLOSE + '">'
)
CSRF_INPUT_TEMPLATE = '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'


def enabled() -> bool:
    return store.enabled() and bool(getattr(settings, "RENDER_CACHE_EDGE", False))


def secret() -> bytes:
    """The edge secret: the setting, else one derived from SECRET_KEY (rotating with it)."""
    configured = getattr(settings, "RENDER_CACHE_EDGE_SECRET", "")
    if configured:
        return force_bytes(configured)
    return hmac.new(
        force_bytes(settings.SECRET_KEY), b"cms.render_cache.edge", hashlib.sha256
    ).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def edge_key(key_digest: str, generation: str) -> str:
    """`v1.<key id>.<mac>`: the key id (4 characters of the secret's hash) shows which secret
    made a key; the MAC (128 bits) names the personalization key and content generation."""
    raw = secret()
    key_id = _b64(hashlib.sha256(b"key-id|" + raw).digest())[:4]
    mac = hmac.new(raw, f"{VERSION}|{key_digest}|{generation}".encode(), hashlib.sha256)
    return f"{VERSION}.{key_id}.{_b64(mac.digest()[:16])}"


def edge_max_age() -> int:
    """How long the edge may keep a copy: half the origin's TTL, so every hole an include
    names is still stored when the proxy asks for it."""
    return max(1, store.ttl() // 2)


# WHO MAY BE SERVED A SHARED COPY
# ------------------------------------------------------------------------------


def page_request(request, full_path: str):
    """A copy of `request` as the site's request of the page at `full_path` (path and query)
    would be: what the key, the holes and the segments' path and query rules read."""
    path, _, query = full_path.partition("?")
    page = copy.copy(request)
    page.META = {**request.META, "QUERY_STRING": query, "PATH_INFO": path}
    page.GET = QueryDict(query)
    page.path = page.path_info = path
    for memo in ("_personalization_resolution", "_experiment_choices", "_experiment_assignments"):
        page.__dict__.pop(memo, None)
    return page


def refusal(request) -> str | None:
    """Why this request cannot be served a shared copy, or None. A browser's first request
    (no visitor or CSRF cookie yet), flash messages waiting, or a campaign in the address
    would each set a cookie on the page's response, and a cookie is one visitor's: such a
    page goes to the origin, which sets it."""
    if not getattr(request, "visitor_from_token", False):
        if read_visitor_cookie(request) is None:
            return "new-visitor"
        if settings.CSRF_COOKIE_NAME not in request.COOKIES:
            return "no-csrf-cookie"
    if any(request.GET.get(name) for name in UTM_KEYS):
        return "campaign"
    storage = getattr(request, "_messages", None)
    if storage is not None and len(storage):
        return "messages"
    return None


def visitor_changed(request) -> bool:
    """Whether resolving gave this browser a new visitor id (its cookie named a member who is
    not logged in here): the response sets a cookie, so it is theirs alone."""
    wanted = getattr(request, "visitor_cookie_uuid", None)
    return wanted is not None and wanted != read_visitor_cookie(request)


def current_key(request, route: store.Route, key_digest: str) -> str | None:
    """The edge key of this request for `route`, or None when its page is not shared."""
    if not enabled() or route.restrictions_over or refusal(request) or visitor_changed(request):
        return None
    return edge_key(key_digest, store.version(route))


def accepted(request, route: store.Route, key_digest: str) -> str | None:
    """The key the request carries, when it is exactly the one the origin computes for it; a
    forged, stale or malformed key is no key (then the page is served privately, as usual)."""
    sent = request.META.get(KEY_META, "")
    if not sent or len(sent) > MAX_KEY_LENGTH:
        return None
    expected = current_key(request, route, key_digest)
    if expected is None or not hmac.compare_digest(sent.encode(), expected.encode()):
        return None
    return expected


# THE SHARED COPY
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoleRef:
    """One hole of one stored render, as an include names it."""

    generation: str
    page_id: int
    revision_id: int
    key_digest: str
    index: int
    csrf_input: bool
    full_path: str

    def sign(self) -> str:
        fields = [
            self.generation,
            self.page_id,
            self.revision_id,
            self.key_digest,
            self.index,
            int(self.csrf_input),
            self.full_path,
        ]
        return signing.dumps(fields, key=secret(), salt=HOLE_SALT, compress=True)


def hole_read(signed: str) -> HoleRef | None:
    """The hole a signed reference names; None when forged, expired or malformed."""
    try:
        fields = signing.loads(signed, key=secret(), salt=HOLE_SALT, max_age=store.ttl() * 2)
        generation, page_id, revision_id, digest, index, csrf_input, full_path = fields
        return HoleRef(
            str(generation),
            int(page_id),
            int(revision_id),
            str(digest),
            int(index),
            bool(csrf_input),
            str(full_path),
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None


def include_syntax(request) -> str | None:
    """The includes the proxy resolves, from its `Surrogate-Capability`: "esi", "ssi" or None."""
    capability = request.META.get(CAPABILITY_META, "")
    if "ESI/1.0" in capability:
        return "esi"
    if "SSI/1.0" in capability:
        return "ssi"
    return None


def _include(syntax: str, ref: HoleRef) -> str:
    src = f"{HOLE_PREFIX}{ref.sign()}/"
    if syntax == "esi":
        return f'<esi:include src="{src}" onerror="continue"/>'
    return f'<!--# include virtual="{src}" -->'


def _in_a_tag(body: str, position: int) -> bool:
    return body.rfind("<", 0, position) > body.rfind(">", 0, position)


def shared_body(request, route: store.Route, key_digest: str, render: store.Render) -> str | None:
    """The render as the edge may keep it: the page's own address filled in (the edge keys on
    the URL), every other hole an include. None when a hole sits inside a tag (an include
    cannot) or the proxy resolves no includes and the page has holes."""
    full_path = request.get_full_path()
    kinds = frozenset(kind for kind, _ in render.holes) - {"path"}
    body = holes_module.fill(render.body, render.holes, request, later=kinds)
    if not MARKER.search(body):
        return body
    syntax = include_syntax(request)
    if syntax is None:
        return None
    generation = store.version(route)

    def ref(index: int, csrf_input: bool) -> HoleRef:
        return HoleRef(
            generation,
            route.page_id,
            route.revision_id,
            key_digest,
            index,
            csrf_input,
            full_path,
        )

    body = CSRF_INPUT.sub(lambda m: _include(syntax, ref(int(m.group(1)), True)), body)
    if any(_in_a_tag(body, m.start()) for m in MARKER.finditer(body)):
        return None
    return MARKER.sub(lambda m: _include(syntax, ref(int(m.group(1)), False)), body)


def respond(request, route: store.Route, key_digest: str, render: store.Render, key: str):
    """The shareable response for the edge (None when this render cannot be shared)."""
    body = shared_body(request, route, key_digest, render)
    if body is None:
        return None
    cache.touch(store.render_key("html", route, key_digest), store.ttl())
    response = HttpResponse(body, content_type=render.content_type)
    response[KEY_HEADER] = key
    response["Cache-Control"] = f"public, max-age=0, s-maxage={edge_max_age()}"
    if "<esi:include" in body:
        response["Surrogate-Control"] = 'content="ESI/1.0"'
    request._edge_response = True  # EdgeResponseMiddleware checks it on the way out
    return response


# THE FRAGMENTS
# ------------------------------------------------------------------------------


def hole_render(ref: HoleRef) -> store.Render | None:
    """The stored render a reference names, if it is still there (same content version)."""
    if not store.version_current(ref.generation):
        return None
    route = SimpleNamespace(page_id=ref.page_id, revision_id=ref.revision_id)
    render = store.render_get("html", route, ref.key_digest, ref.generation)
    if render is None or not 0 <= ref.index < len(render.holes):
        return None
    return render


def hole_html(render: store.Render, ref: HoleRef, request) -> str:
    """One hole filled for `request` (the page's request: `page_request`)."""
    html = holes_module.fill(f"{OPEN}{ref.index}{CLOSE}", render.holes, request)
    if ref.csrf_input:
        return CSRF_INPUT_TEMPLATE.format(html)  # the csrf filler escapes the token
    return html


# ON THE WAY OUT
# ------------------------------------------------------------------------------


class EdgeResponseMiddleware:
    """Outermost (after the forwarding headers): a shareable page leaves the origin exactly as
    the edge should keep it — varying on the key alone (the session middleware adds `Cookie`
    after the page was built) — or, if anything on the way out set a cookie, private."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "_edge_response", False):
            return response
        if response.cookies:
            response["Cache-Control"] = "private, no-store"
            del response[KEY_HEADER]
            response["Vary"] = "Cookie"
        else:
            response["Vary"] = KEY_HEADER
        return response
