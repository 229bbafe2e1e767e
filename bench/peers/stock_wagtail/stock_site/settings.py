"""A stock Wagtail 8 project serving the bench page: Wagtail's own apps and middleware, the
page app, no personalization of any kind."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/peers, for peer_shared

from peer_shared.project_settings import *  # noqa: E402, F403
from peer_shared.project_settings import DJANGO_APPS, WAGTAIL_APPS  # noqa: E402

INSTALLED_APPS = ["stock_pages", "peer_shared", *WAGTAIL_APPS, *DJANGO_APPS]
ROOT_URLCONF = "stock_site.urls"
WSGI_APPLICATION = "stock_site.wsgi.application"
