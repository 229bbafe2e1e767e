"""Version tokens read at most once per request, all in one round trip.

Several per-process structures are rebuilt when a shared token in the cache changes: the
compiled segments (`personalization.resolver`), the running experiments
(`experiments.registry`), the render cache's content generation (`cms.render_cache.store`).
Each used to read its token from the cache every time it was asked — a served page asked up to
a dozen times, each one a sequential Redis round trip.

Inside a request (`VersionTokensMiddleware`, first in the stack) the first token asked for
reads every registered token with one `get_many` and keeps them for the rest of the request;
`read_with` adds the request's first other lookups (the render cache's route) to that same
round trip. A token this request changes itself (`remember`, called by every bump and by the
database fallback of a token missing from the cache) is seen by the rest of the request at
once. The memo lives in a context variable set and reset around each request, so it is never
shared by two requests or two threads. Outside a request (jobs, the shell, tests calling
services directly) every read goes to the cache, as before.

A request thus works from one snapshot of the tokens taken when it first needs one: a change
made by another process while the request runs is seen by the next request — as it would have
been had the request started a moment earlier.

Each token is a `VersionToken`: its cache key, and how to derive it from the database when the
cache has none (expired, flushed, or a per-process cache that has not seen another process's
change). What a process builds from the database and keeps until a token moves is a
`PerProcess` value.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache

_registered: dict[str, None] = {}
_memo: ContextVar[dict[str, str | None] | None] = ContextVar("version_tokens", default=None)


def register(key: str) -> str:
    """Declare the cache key of a version token (at import): read with the others."""
    _registered[key] = None
    return key


@contextmanager
def request_scope() -> Iterator[None]:
    """Tokens read inside the block are read once (see the module's docstring)."""
    reset = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(reset)


def read_with(keys: Iterable[str] = ()) -> dict:
    """`cache.get_many(keys)`, in the same round trip as the tokens this request has not read
    yet (outside a request: just the `get_many`)."""
    keys = list(keys)
    memo = _memo.get()
    if memo is None:
        return cache.get_many(keys) if keys else {}
    unread = [key for key in _registered if key not in memo]
    if not unread and not keys:
        return {}
    found = cache.get_many([*unread, *keys])
    for key in unread:
        memo[key] = found.pop(key, None) or None
    return found


def read(key: str) -> str | None:
    """The token under `key` in the cache (None: absent, the caller derives and `remember`s
    it) — from this request's memo when there is one."""
    memo = _memo.get()
    if memo is None or key not in _registered:
        return cache.get(key)
    if key not in memo:
        read_with()
    return memo.get(key)


def remember(key: str, token: str) -> None:
    """`token` is now the value under `key` (just written to the cache by this process): the
    rest of this request uses it."""
    memo = _memo.get()
    if memo is not None:
        memo[key] = token


def token_ttl() -> int | None:
    """How long a process trusts a cached version token before asking the database again.

    A shared cache (Redis) is updated on every change, so it can be trusted for long; a
    per-process cache cannot see other processes' changes, so it is re-read every few seconds.
    """
    backend = settings.CACHES["default"]["BACKEND"]
    shared = "redis" in backend.lower() or "memcached" in backend.lower()
    return 3600 if shared else settings.PERSONALIZATION_LOCAL_VERSION_TTL


class VersionToken:
    """One version token: registered under `key` (read with the others), derived by `derive()`
    from the database when the cache has none."""

    def __init__(self, key: str, derive: Callable[[], str]) -> None:
        self.key = register(key)
        self._derive = derive

    def __call__(self) -> str:
        """The current token (this request's snapshot, else the cache, else derived)."""
        return read(self.key) or self.set(self._derive())

    def set(self, token: str) -> str:
        """`token` is the token now, in the cache and for the rest of this request."""
        cache.set(self.key, token, token_ttl())
        remember(self.key, token)
        return token

    def bump(self) -> str:
        """A new token: whatever was built under the old one is stale in every process (with
        a per-process cache, others notice within `token_ttl()`)."""
        return self.set(uuid.uuid4().hex)


T = TypeVar("T")


class PerProcess(Generic[T]):
    """A value each process builds (`build(token)`) and keeps while `token()` stays the same;
    built once per change however many threads ask at that moment."""

    def __init__(self, token: Callable[[], str], build: Callable[[str], T]) -> None:
        self._token = token
        self._build = build
        self._kept: tuple[str, T] | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        token = self._token()
        kept = self._kept
        if kept is not None and kept[0] == token:
            return kept[1]
        with self._lock:
            kept = self._kept
            if kept is None or kept[0] != token:
                kept = self._kept = (token, self._build(token))
            return kept[1]

    def reset(self) -> None:
        """Forget the value (tests whose database was rolled back under an unchanged token)."""
        self._kept = None


class VersionTokensMiddleware:
    """Each request reads each version token at most once (first in MIDDLEWARE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_scope():
            return self.get_response(request)
