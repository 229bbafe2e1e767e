"""Production: SECRET_KEY must come from the environment, cookies are secure, static files are
hashed and compressed by WhiteNoise. Everything else is read in base from the environment."""

from config.env import ConfigError, bool_setting, int_setting, str_setting

from .base import *  # noqa: F403

SECRET_KEY = str_setting("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    raise ConfigError(
        "DJANGO_SECRET_KEY is not set: production mode needs a long random secret "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
DEBUG = False
SESSION_COOKIE_SECURE = bool_setting("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = bool_setting("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int_setting("DJANGO_SECURE_HSTS_SECONDS", 0)
SERVE_MEDIA = bool_setting("DJANGO_SERVE_MEDIA", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
