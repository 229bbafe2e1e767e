"""Test settings. They differ from base only where speed or isolation asks for it:
a fast password hasher, in-memory email, and a locmem cache unless REDIS_URL is set. Jobs run
inline when REDIS_URL is unset; with it set (as in `.ci/run`) they go to real RQ queues, and the
tests that need a worker run one. Wagtail's own django-tasks stay immediate so page saves finish
their reference-index work before the test looks.
"""

import os
from urllib.parse import urlsplit, urlunsplit

# A parallel run (pytest-xdist, `make test`) gives each worker its own Redis database: its jobs,
# queues, locks and streams never meet another worker's (PostgreSQL test databases are per worker
# already: pytest-django adds the worker's name). Set before the base settings read REDIS_URL,
# so everything built from it — and every process a test starts — uses the worker's database.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...


def _redis_url_for_worker(url: str, worker: int) -> str:
    """`url` on database (its own + worker) of the same server (16 databases by default)."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + worker) % 16}"))


if (
    _WORKER.startswith("gw")
    and os.environ.get("REDIS_URL")
    and "CMS_TEST_BASE_REDIS_URL" not in os.environ
):
    # Once, in the worker itself: a process a test starts inherits the marker and keeps the
    # REDIS_URL it was given (the worker's, or a test's own redis-server).
    os.environ["CMS_TEST_BASE_REDIS_URL"] = os.environ["REDIS_URL"]
    os.environ["REDIS_URL"] = _redis_url_for_worker(os.environ["REDIS_URL"], int(_WORKER[2:]))

from .base import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Without Redis, jobs run in the caller, so a test sees their effect when the request returns
# (tests/reliability/test_embedded_concurrency.py runs the writer thread under gunicorn).
JOBS_INLINE_MODE = "immediate"
MEDIA_ROOT = BASE_DIR / "var" / f"test-media{'-' + _WORKER if _WORKER else ''}"  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
if REDIS_URL:  # noqa: F405
    # Each test run gets its own key prefix: the test database is new, so nothing cached by an
    # earlier run (renditions, compiled segments) may be read back. Entries expire on their own.
    CACHES["default"]["KEY_PREFIX"] = f"cms-test-{os.getpid()}"  # noqa: F405
# A burst worker in a test should finish as soon as the stream is empty (one test covers the
# waiting itself).
EVENTS_IDLE_SECONDS = 0
EVENTS_GATHER_SECONDS = 0
# The tests' demo site (loaded once per session) is the English one: tests find its pages by
# slug and its one home page. The tests of the Japanese site add the Japanese translation
# inside their own transaction (`cms.demo.ensure_japanese_site`, tests/i18n/).
DEMO_LANGUAGES = ["en"]
# Nor the demo shop's history: tests count visitors, events and segment sizes from a known
# start; the tests of the demo shop build it themselves (tests/commerce/test_demo_shop.py).
DEMO_SHOPPING_HISTORY = False
