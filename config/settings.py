"""The project's only settings module: every value comes from the environment, with a default.

With no environment at all the product runs embedded: DEBUG on, SQLite, Celery tasks in-process,
local-memory cache, console email and the local Twilio sandbox. Each variable of the operator
contract (the README's table) switches one part to production.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext

# Generic admin and DRF classes (ModelAdmin[Person]) are subscriptable at run time too.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "embedded-insecure-key-change-me-in-production"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(
        ","
    )
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
# Behind a TLS-terminating proxy (the usual deployment) the original scheme arrives in
# X-Forwarded-Proto. An app served directly, with no proxy to overwrite the header, sets
# DJANGO_BEHIND_TLS_PROXY=false so a client cannot claim https.
if env_bool("DJANGO_BEHIND_TLS_PROXY", True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "config",
    "people",
    "sms_admin",
    "messaging",
    "twilio_bridge",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # REST API query strings: parameters the OpenAPI schema does not declare are a 400.
    "config.query_parameters.QueryParameterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)
    if DATABASE_URL
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "var" / "db.sqlite3"}
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue instead of failing with "database is locked": each transaction takes the
    # write lock when it begins (a deferred one that reads, then writes, fails at once when
    # another is writing), and waits up to 20 s for it (a 10,000-person cohort takes about 3 s).
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
# var/ holds the embedded database, collected static files and file-backend mail.
(BASE_DIR / "var" / "static").mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# The cache uses REDIS_URL, or the Celery broker when only that names a Redis server.
_cache_url = REDIS_URL or (
    os.environ.get("CELERY_BROKER_URL", "")
    if os.environ.get("CELERY_BROKER_URL", "").startswith(("redis://", "rediss://"))
    else ""
)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
    if _cache_url
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
# The institution's time zone: month boundaries of the SMS limit are computed in it.
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

# Email: console by default; EMAIL_URL (smtp://user:pass@host:port) or Django's own variables.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "texting@example.edu")
_email_url = os.environ.get("EMAIL_URL", "")
if _email_url:
    from urllib.parse import unquote, urlsplit

    from django.core.exceptions import ImproperlyConfigured

    _parts = urlsplit(_email_url)
    # scheme -> (STARTTLS, implicit TLS, default port)
    _email_schemes = {
        "smtp": (False, False, 25),
        "smtp+tls": (True, False, 587),
        "submission": (True, False, 587),
        "smtps": (False, True, 465),
        "smtp+ssl": (False, True, 465),
    }
    if _parts.scheme not in _email_schemes:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme '{_parts.scheme}' is not known; use one of "
            f"{', '.join(_email_schemes)} (e.g. smtp+tls://user:password@smtp.example.edu:587)."
        )
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _parts.hostname or "localhost"
    EMAIL_USE_TLS, EMAIL_USE_SSL, _default_port = _email_schemes[_parts.scheme]
    EMAIL_PORT = _parts.port or _default_port
    EMAIL_HOST_USER = unquote(_parts.username or "")
    EMAIL_HOST_PASSWORD = unquote(_parts.password or "")

# Celery: with no broker, tasks run in-process (eagerly) so the embedded product needs nothing.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "") or REDIS_URL
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes the database connection around every task unless this is set
# (measured on a 2-core machine: a one-statement task ran at 238/s by default, 825/s with 1000).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
# A text left in `sending` this long is reconciled by the sweep (looked up at Twilio).
SMS_STUCK_AFTER_SECONDS = env_int("SMS_STUCK_AFTER_SECONDS", 600)
# T3 "retry later" codes (30003, 30008) reported by a status callback: a new attempt after each
# of these delays (picked up by the sweep), then the email fallback. Empty: email at once.
SMS_UNREACHABLE_RETRY_SECONDS = tuple(
    int(s) for s in os.environ.get("SMS_UNREACHABLE_RETRY_SECONDS", "900,3600").split(",") if s
)
# Idempotency keys of API sends are honoured this long, then purged by a daily beat job.
SEND_REQUEST_KEEP_DAYS = env_int("SEND_REQUEST_KEEP_DAYS", 7)
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-messages": {"task": "twilio_bridge.tasks.sweep_stuck_messages", "schedule": 300.0},
    "purge-send-requests": {"task": "messaging.tasks.purge_send_requests", "schedule": 86400.0},
}

# Twilio: unset credentials mean the local sandbox (twilio_bridge.sandbox).
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_SANDBOX = not (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)
if TWILIO_SANDBOX:
    # The sandbox's well-known test credentials; they only ever talk to 127.0.0.1.
    TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    TWILIO_AUTH_TOKEN = "sandbox-auth-token"
SANDBOX_PORT = env_int("SANDBOX_PORT", 8025)
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "") or (
    f"http://127.0.0.1:{SANDBOX_PORT}" if TWILIO_SANDBOX else ""
)
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Default region for phone numbers typed without a country code.
PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "US")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SMS texting API",
    "DESCRIPTION": "People, phones, SMS configuration, routing, messages and usage.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's JavaScript is served from this server, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Student and staff defaults share one choice set: name it once in the schema.
    "ENUM_NAME_OVERRIDES": {"DefaultStatusEnum": "sms_admin.models.DefaultStatus"},
    # Request bodies are documented as JSON, what integrations send; form posts (the browsable
    # API) are still read, as text, but are not part of the contract.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Every operation's error answers (400, 401, 403, 404, 406, 415, 429 as they apply).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.error_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The SDK logs every request at INFO with recipients' numbers and message bodies.
        "twilio.http_client": {"level": "WARNING"},
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", False)
    # Twilio's webhooks and /healthz probes from the proxy's side arrive over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^twilio/"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
