"""Settings of a stock Wagtail 8 project (as `wagtail start` lays them out) in production mode,
on the bench's PostgreSQL and Redis: what both baselines share. Each baseline's settings module
star-imports this and adds its own apps.

Read from the environment (bench/pages.py sets them): BENCH_DATABASE_URL, BENCH_REDIS_URL,
BENCH_MEDIA_ROOT, BENCH_SECRET_KEY, BENCH_ALLOWED_HOSTS.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

DEBUG = False
SECRET_KEY = os.environ.get("BENCH_SECRET_KEY", "bench-peers-only-" + "x" * 40)
ALLOWED_HOSTS = os.environ.get("BENCH_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
LANGUAGE_CODE = "en"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _database(url: str) -> dict:
    """postgres://user@host:port/name; the project's persistent-connection settings."""
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "postgres",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": parts.port or 5432,
        "CONN_MAX_AGE": 60,  # as the project's config.env does for PostgreSQL
        "CONN_HEALTH_CHECKS": True,
    }


DATABASES = {"default": _database(os.environ["BENCH_DATABASE_URL"])}

REDIS_URL = os.environ["BENCH_REDIS_URL"]
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("BENCH_CACHE_PREFIX", "peer"),
    }
}

WAGTAIL_APPS = [
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
]
DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "peer_shared.context_processors.site_navigation",
            ],
        },
    },
]

STATIC_URL = "/static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("BENCH_MEDIA_ROOT", "/tmp/bench-peers-media"))  # noqa: S108
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

WAGTAIL_SITE_NAME = "Pawprint Club"
WAGTAILADMIN_BASE_URL = "http://127.0.0.1"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
# Wagtail 8 runs its background work (reference index, renditions) through django-tasks; a
# stock project without a worker runs it inline.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
