"""WSGI entry point for gunicorn (`gunicorn config.wsgi`)."""

import os
import sys

from django.core.wsgi import get_wsgi_application

from config.env import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

try:
    application = get_wsgi_application()
except ConfigError as exc:
    sys.stderr.write(f"Configuration error: {exc}\n")
    raise SystemExit(2) from None
