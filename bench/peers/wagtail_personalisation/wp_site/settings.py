"""The bench page on a Wagtail 8 project with wagtail-personalisation 1.0.0, set up as its
README says (its apps installed, SessionMiddleware first), nothing else changed. Runs from the
throw-away venv of bench/peers/make_venv.sh."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/peers, for peer_shared

from peer_shared.project_settings import *  # noqa: E402, F403
from peer_shared.project_settings import DJANGO_APPS, MIDDLEWARE, WAGTAIL_APPS  # noqa: E402

INSTALLED_APPS = [
    "wp_pages",
    "peer_shared",
    "wagtail_modeladmin",
    "wagtail_personalisation",
    "wagtailfontawesomesvg",
    *WAGTAIL_APPS,
    *DJANGO_APPS,
]
SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
MIDDLEWARE = [SESSION, *(m for m in MIDDLEWARE if m != SESSION)]
ROOT_URLCONF = "wp_site.urls"
WSGI_APPLICATION = "wp_site.wsgi.application"
