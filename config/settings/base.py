"""Settings shared by every environment. Every outside value is read here through `config.env`;
`dev`, `test` and `production` only override. Defaults give the embedded set-up: a SQLite file
under the project and jobs run inline in the web process.
"""

import ipaddress
import re
from pathlib import Path

from config.env import (
    ConfigError,
    bool_setting,
    database_setting,
    int_setting,
    list_setting,
    redis_url_setting,
    str_setting,
    with_connect_timeout,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = bool_setting("DJANGO_DEBUG", False)
SECRET_KEY = str_setting("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
ALLOWED_HOSTS = list_setting(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = list_setting("DJANGO_CSRF_TRUSTED_ORIGINS", [])
LANGUAGE_CODE = "en"
# The project's own strings are translated in locale/ (compiled by `make`); an editor who picks
# 日本語 in their Wagtail account gets the whole admin in Japanese. Listing the two languages
# also limits the admin's language choice to them (WAGTAILADMIN_PERMITTED_LANGUAGES).
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = str_setting("DJANGO_TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SITE_ID = 1

# DATABASES
# ------------------------------------------------------------------------------
DATABASE_URL = str_setting("DATABASE_URL")
DATABASES = {"default": database_setting(DATABASE_URL, str(BASE_DIR / "db.sqlite3"))}

# REDIS, RQ AND TASKS
# ------------------------------------------------------------------------------
# With REDIS_URL set, jobs go to real RQ queues served by `manage.py rqworker`. Without it,
# `config.jobs.enqueue` runs the same job functions inline once the transaction commits
# (RQ's own synchronous mode still needs a Redis server for its bookkeeping).
REDIS_URL = redis_url_setting(str_setting("REDIS_URL"))
JOBS_INLINE = REDIS_URL is None
# Without Redis, jobs (events included) run in each process's one writer thread after the
# response ("thread", see config/embedded.py), or in the caller ("immediate", as the tests do).
JOBS_INLINE_MODE = str_setting("JOBS_INLINE_MODE", "thread")
if JOBS_INLINE_MODE not in {"thread", "immediate"}:
    raise ConfigError(f"JOBS_INLINE_MODE={JOBS_INLINE_MODE!r} is not 'thread' or 'immediate'.")
EMBEDDED_QUEUE_SIZE = int_setting("EMBEDDED_QUEUE_SIZE", 10_000, minimum=1)
RQ_QUEUE_NAMES = ("default", "events", "reports")
RQ_QUEUES = {
    name: {
        "URL": with_connect_timeout(REDIS_URL or "redis://127.0.0.1:6379/0"),
        "DEFAULT_TIMEOUT": 600,
    }
    for name in RQ_QUEUE_NAMES
}
# Every `manage.py rqworker` runs config.rq_worker.Worker: it waits for Redis and reconnects
# when Redis goes away, where RQ's own worker exits.
RQ = {"COMMIT_MODE": "on_db_commit", "WORKER_CLASS": "config.rq_worker.Worker"}
RQ_SHOW_ADMIN_LINK = True

# Wagtail 8 queues its own background work (reference index, renditions) through django-tasks;
# when Redis cannot be reached the task runs inline rather than failing the save (config/tasks.py).
if REDIS_URL:
    TASKS = {"default": {"BACKEND": "config.tasks.ResilientRQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# CACHES
# ------------------------------------------------------------------------------
# With Redis, a cache failure is a miss or a no-op, never an error: the site stays up while
# Redis is away, skipping it for a few seconds after each failure (config/cache.py).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cms",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 2.0, "down_seconds": 5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Image renditions (Wagtail reads the "renditions" cache when there is one): kept in each
# process. Wagtail writes a rendition back to its cache on every read, so in Redis each picture
# of a page (a product card's, the greeting's pet) cost two round trips per request; here it
# costs none. A rendition's key changes with its focal point; a replaced file is seen by other
# processes within TIMEOUT seconds (this process at once: Wagtail deletes the entry).
CACHES["renditions"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "renditions",
    "TIMEOUT": 300,
    "OPTIONS": {"MAX_ENTRIES": 10_000},
}

# APPS
# ------------------------------------------------------------------------------
LOCAL_APPS = [
    "personalization",
    "personalization.privacy",
    "personalization.events",
    "personalization.journeys",
    "personalization.commerce",
    "experiments",
    "cms",
    "cms.members",
]
WAGTAIL_APPS = [
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.simple_translation",
    "wagtail.locales",
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
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "django_rq",
    "django_tasks",
    "django_tasks_rq",
]
DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]
INSTALLED_APPS = LOCAL_APPS + WAGTAIL_APPS + THIRD_PARTY_APPS + DJANGO_APPS

# MIDDLEWARE
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    # Each request reads each version token (segments, experiments, content) at most once.
    "config.version_tokens.VersionTokensMiddleware",
    # Then: forwarding headers (X-Forwarded-For/-Proto, the country header) count only from
    # API_TRUSTED_PROXIES; from anyone else they are removed before anything reads them.
    "personalization.proxies.ForwardedHeadersMiddleware",
    # A page shared at the edge leaves varying on its key alone, or private if a cookie is set.
    "cms.render_cache.edge.EdgeResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The site's language from its address: /ja/… is Japanese, anything else English (the
    # default, unprefixed); the API speaks the client's Accept-Language. Before everything
    # that renders, keys or caches by language.
    "config.locale.SiteAndApiLocaleMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "personalization.middleware.VisitorMiddleware",
    "personalization.consent.ConsentMiddleware",
    # Site pages from the segment-keyed render cache (after everything the key reads; inside
    # the CSRF middleware, which sets the cookie a filled CSRF hole asks for).
    "cms.render_cache.middleware.RenderCacheMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# TEMPLATES
# ------------------------------------------------------------------------------
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "cms.context_processors.site_navigation",
                "cms.context_processors.render_cache_holes",
            ],
        },
    },
]

# AUTHENTICATION
# ------------------------------------------------------------------------------
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "account_profile"
LOGOUT_REDIRECT_URL = "/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# STATIC AND MEDIA
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(str_setting("DJANGO_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Serve uploaded media from Django itself (the embedded set-up); production puts a web server
# or object storage in front and turns this off.
SERVE_MEDIA = bool_setting("DJANGO_SERVE_MEDIA", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# EMAIL
# ------------------------------------------------------------------------------
EMAIL_BACKEND = str_setting(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = str_setting(
    "DJANGO_DEFAULT_FROM_EMAIL", "Pawprint Club <no-reply@example.com>"
)

# WAGTAIL
# ------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = str_setting("WAGTAIL_SITE_NAME", "Pawprint Club")
WAGTAILADMIN_BASE_URL = str_setting("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "pdf", "pptx", "txt", "xlsx", "zip"]
# A URL name: a members-only page of the Japanese site sends to the Japanese log-in page.
WAGTAIL_FRONTEND_LOGIN_URL = "account_login"
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
# The site in two languages (docs/operator-guide.md#the-site-in-japanese-and-english): English
# at unprefixed addresses (LANGUAGE_CODE, the default locale), Japanese under /ja/.
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = [("en", "English"), ("ja", "日本語")]

# REST FRAMEWORK
# ------------------------------------------------------------------------------
# The visitor token only identifies the visitor (never a user); members and staff authenticate
# by API token or session (CSRF enforced). JSON only: no form posts from other sites.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "personalization.api.authentication.VisitorTokenAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PARSER_CLASSES": ["personalization.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "personalization.api.errors.api_exception_handler",
}

# SECURITY
# ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from the cache and written through to the database: a member's page from
# the render cache then costs no session query, and a cache outage falls back to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# The segment-keyed render cache (cms.render_cache): on by default; entries also expire.
RENDER_CACHE_ENABLED = bool_setting("RENDER_CACHE_ENABLED", True)
RENDER_CACHE_TTL = int_setting("RENDER_CACHE_TTL", 600, minimum=1)
# The editor's Personalization tab warns when a page can have more keys than this (cms.panels).
RENDER_CACHE_KEYS_WARNING = int_setting("RENDER_CACHE_KEYS_WARNING", 64, minimum=1)
# At the edge (cms.render_cache.edge): off unless a CDN or reverse proxy in front of the site
# asks /api/v1/decide/ for each page view's key. The secret signs the keys and the holes'
# includes; empty: derived from DJANGO_SECRET_KEY. A new secret changes every key.
RENDER_CACHE_EDGE = bool_setting("RENDER_CACHE_EDGE", False)
RENDER_CACHE_EDGE_SECRET = str_setting("RENDER_CACHE_EDGE_SECRET", "")
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "SAMEORIGIN"
SECURE_CONTENT_TYPE_NOSNIFF = True

# LOGGING
# ------------------------------------------------------------------------------
LOG_LEVEL = str_setting("DJANGO_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "rq.worker": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django_tasks": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "wagtail": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# PRODUCT
# ------------------------------------------------------------------------------
DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_PASSWORD = str_setting("DEMO_ADMIN_PASSWORD", "pawprint-admin")
# The demo site's languages (`manage.py load_demo`): English, and its Japanese translation.
DEMO_LANGUAGES = list_setting("DEMO_LANGUAGES", ["en", "ja"])
# The demo shop's history (shoppers' views and orders, members' favourites, Kenji's orders):
# what recommendations learn from on a fresh demo (cms.demo.shopping).
DEMO_SHOPPING_HISTORY = True
EVENT_RETENTION_DAYS = int_setting("EVENT_RETENTION_DAYS", 395, minimum=1)

# PERSONALIZATION
# ------------------------------------------------------------------------------
VISITOR_COOKIE_NAME = "pv"
VISITOR_COOKIE_AGE = 60 * 60 * 24 * 400  # about 13 months
# A trusted proxy/CDN header carrying the visitor's ISO country code (blank to ignore).
PERSONALIZATION_COUNTRY_HEADER = str_setting("PERSONALIZATION_COUNTRY_HEADER", "CF-IPCountry")
# Optional MaxMind GeoIP2 country database (needs `pip install geoip2`), used without the header.
GEOIP_COUNTRY_DATABASE = str_setting("GEOIP_COUNTRY_DATABASE", "")
# Seconds a process trusts its own copy of the segment version when the cache is per-process.
PERSONALIZATION_LOCAL_VERSION_TTL = int_setting("PERSONALIZATION_LOCAL_VERSION_TTL", 5, minimum=0)
VISIT_TIMEOUT_MINUTES = 30
# Product categories offered in the segment rule builder ("Days since last bought: …").
PURCHASE_CATEGORIES = list_setting(
    "PURCHASE_CATEGORIES", ["cat-food", "dog-food", "litter", "toys", "treats", "care"]
)
# A favourite with a stock from 1 to this many is "low in stock" (segment attribute
# favourites.low_stock).
COMMERCE_LOW_STOCK = int_setting("COMMERCE_LOW_STOCK", 3, minimum=1)
# The admin's CSV import: the largest file accepted (bytes), how many problems a report lists, the
# minutes after which an import still checking or applying with no progress is failed (its worker
# died), and the days after which a checked file never applied is discarded. Uploaded files are
# deleted once an import ends; the `product-imports-sweep` job fails stuck imports and deletes
# files left behind.
COMMERCE_IMPORT_MAX_BYTES = int_setting("COMMERCE_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
COMMERCE_IMPORT_MAX_ERRORS = int_setting("COMMERCE_IMPORT_MAX_ERRORS", 100, minimum=1)
COMMERCE_IMPORT_STUCK_MINUTES = int_setting("COMMERCE_IMPORT_STUCK_MINUTES", 15, minimum=1)
COMMERCE_IMPORT_FILE_DAYS = int_setting("COMMERCE_IMPORT_FILE_DAYS", 7, minimum=1)

# JOBS AND SCHEDULE
# ------------------------------------------------------------------------------
# Every periodic job, in one place. RQ's cron scheduler enqueues them:
# `manage.py rqcron personalization.scheduling` (one process per deployment; `make run` starts
# it when REDIS_URL is set). Cron expressions use the server's local time. Without Redis,
# `manage.py run_periodic_jobs --loop` runs them on their schedule (`make run` starts it).
PERIODIC_JOBS = [
    # Safety net of the event pipeline: batches left by a stopped worker, late stragglers.
    {
        "name": "events-drain",
        "func": "personalization.events.jobs.drain_events",
        "queue": "events",
        "interval": 60,
    },
    {
        "name": "journeys-evaluate",
        "func": "personalization.journeys.jobs.evaluate_journeys",
        "queue": "default",
        "interval": 60,
    },
    {
        "name": "segment-sizes",
        "func": "personalization.jobs.snapshot_segment_sizes",
        "queue": "reports",
        "cron": "*/30 * * * *",
    },
    {
        "name": "experiment-aggregates",
        "func": "experiments.jobs.snapshot_daily_aggregates",
        "queue": "reports",
        "cron": "5 * * * *",
    },
    {
        # Guardrails: harm recorded (and paused, the owner told) from the fresh aggregates.
        "name": "experiment-guardrails",
        "func": "experiments.jobs.check_guardrails",
        "queue": "reports",
        "cron": "10 * * * *",
    },
    {
        # Bandit experiments: reweighted once their own interval (hourly by default) has passed.
        "name": "experiment-bandits",
        "func": "experiments.jobs.reweight_bandits",
        "queue": "reports",
        "cron": "*/10 * * * *",
    },
    {
        "name": "events-purge",
        "func": "personalization.events.jobs.purge_old_events",
        "queue": "reports",
        "cron": "30 3 * * *",
    },
    {
        # Recommendations: products viewed / bought together, from the visitors' rollups.
        "name": "product-pairs",
        "func": "personalization.commerce.cooccurrence.rebuild_product_pairs",
        "queue": "reports",
        "cron": "20 * * * *",
    },
    {
        # CSV imports whose worker died marked failed; uploaded files left behind deleted.
        "name": "product-imports-sweep",
        "func": "personalization.commerce.csv_import.imports_sweep",
        "queue": "reports",
        "cron": "*/5 * * * *",
    },
]
# Days within which two products viewed (bought) by one visitor count as viewed (bought) together.
PRODUCT_PAIRS_WINDOW_DAYS = int_setting("PRODUCT_PAIRS_WINDOW_DAYS", 30, minimum=1)

# EVENT PIPELINE (see personalization/events/ingest.py)
# ------------------------------------------------------------------------------
EVENTS_STREAM = str_setting("EVENTS_STREAM", "personalization:events")
EVENTS_BATCH_ENTRIES = int_setting("EVENTS_BATCH_ENTRIES", 200, minimum=1)  # stream entries/read
EVENTS_BATCH_SIZE = int_setting("EVENTS_BATCH_SIZE", 2000, minimum=1)  # events/transaction
# A batch taken by a worker and not committed within this many seconds is taken over.
EVENTS_CLAIM_IDLE_SECONDS = int_setting("EVENTS_CLAIM_IDLE_SECONDS", 60, minimum=1)
EVENTS_MAX_DELIVERIES = 5  # then the entry goes to the dead-letter stream
EVENTS_DRAIN_SECONDS = 30  # a drain job hands a remaining backlog to a fresh job after this
# Under steady traffic a drain job keeps reading (waiting up to EVENTS_IDLE_SECONDS for the next
# event) instead of ending whenever the stream is momentarily empty and being started again, and
# after a short read lets a batch gather for EVENTS_GATHER_SECONDS: fewer, larger transactions.
EVENTS_IDLE_SECONDS = 1.0
EVENTS_GATHER_SECONDS = 0.05
EVENTS_REDIS_TIMEOUT = 0.5  # seconds to connect before storing synchronously
EVENTS_REDIS_RETRY_SECONDS = 5  # after a Redis failure, write directly for this long

# CONSENT AND JOURNEYS
# ------------------------------------------------------------------------------
# Assumed until a visitor chooses in the banner. Marketing is always opt-in; set the other
# two to 0 where the law asks for opt-in analytics and personalization too.
CONSENT_DEFAULTS = {
    "analytics": bool_setting("CONSENT_DEFAULT_ANALYTICS", True),
    "personalization": bool_setting("CONSENT_DEFAULT_PERSONALIZATION", True),
    "marketing": False,
}
JOURNEY_WEBHOOK_TIMEOUT = 5  # seconds per attempt
JOURNEY_WEBHOOK_BACKOFF = [60, 300, 1800]  # seconds before retries 2, 3, 4; then failed

# API
# ------------------------------------------------------------------------------
# Browser origins allowed to call /api/v1/ from JavaScript, e.g. https://app.example.com.
CORS_ALLOWED_ORIGINS = list_setting("API_CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/api/v1/.*$"
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "if-none-match",
    "x-csrftoken",
    "x-requested-with",
    "x-visitor-token",
    "x-page-url",
    "x-referrer",
    "x-visitor-user-agent",
)
CORS_EXPOSE_HEADERS = ["ETag", "Retry-After"]
# Addresses (IPs or CIDRs) of the proxies, load balancers or frontend servers whose forwarding
# headers (X-Forwarded-For, X-Forwarded-Proto, PERSONALIZATION_COUNTRY_HEADER) the site and the API
# believe; from anyone else they are removed on arrival (personalization.proxies).
API_TRUSTED_PROXIES = list_setting("API_TRUSTED_PROXIES", ["127.0.0.1/32", "::1/128"])
for _proxy in API_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ConfigError(f"API_TRUSTED_PROXIES: {_proxy!r} is not an address.") from None
API_VISITOR_TOKEN_AGE = int_setting("API_VISITOR_TOKEN_AGE", VISITOR_COOKIE_AGE, minimum=60)
API_PREVIEW_TOKEN_AGE = int_setting("API_PREVIEW_TOKEN_AGE", 600, minimum=30)
API_PUBLIC_MAX_AGE = int_setting("API_PUBLIC_MAX_AGE", 60)
# DRF throttle rates ("<requests>/<second|minute|hour|day>"), read on every request.
API_THROTTLE_RATES = {
    "visitor": str_setting("API_THROTTLE_VISITOR", "120/minute"),
    "ip": str_setting("API_THROTTLE_IP", "600/minute"),
    "login": str_setting("API_THROTTLE_LOGIN", "10/minute"),
}
for _scope, _rate in API_THROTTLE_RATES.items():
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", _rate):
        raise ConfigError(f"API_THROTTLE_{_scope.upper()}={_rate!r} is not a rate like 60/minute.")
del _scope, _rate, _proxy
SPECTACULAR_SETTINGS = {
    "TITLE": "Pawprint CMS headless API",
    "DESCRIPTION": "Pages resolved for the visitor, visitor data, events, and staff reports. "
    "See docs/frontend-guide.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"EventTypeEnum": "personalization.events.models.EventType"},
    "PREPROCESSING_HOOKS": ["cms.api.schema.only_api_v1"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cms.api.schema.add_errors_and_event_batches",
    ],
}
