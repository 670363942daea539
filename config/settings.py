"""The project's only settings module: every value comes from the environment, with a default.

With no environment at all the product runs embedded: DEBUG on, SQLite, Celery tasks in-process,
local-memory cache, console email and the local Twilio sandbox. Each variable of the operator
contract (the README's table) switches one part to production.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab

# Generic admin and DRF classes (ModelAdmin[Person]) are subscriptable at run time too.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


def env_bool(name: str, default: bool) -> bool:
    """true/1/yes/on or false/0/no/off, any case; unset or empty: `default`. Anything else (a
    typo such as "ture") stops the start: it must not silently read as false."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"{name}={os.environ[name]!r} is not a yes/no value; use true or false "
        f"(also accepted: {', '.join(TRUE_WORDS[1:])} / {', '.join(FALSE_WORDS[1:])}, any case)."
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_rate(name: str, default: str) -> str:
    """A request rate such as "1000/min" (per second, minute, hour or day)."""
    import re

    value = os.environ.get(name, "").strip() or default
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate; write requests/period, e.g. 1000/min "
            "(period: s, min, hour or day)."
        )
    return value


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
    "axes",
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
    # Outside CommonMiddleware, so /api/v1/people still redirects to /api/v1/people/.
    "config.api.ApiNotFoundMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # REST API query strings: parameters the OpenAPI schema does not declare are a 400.
    "config.query_parameters.QueryParameterMiddleware",
    # Last, as django-axes requires: turns a locked-out login into config.throttling's page.
    "axes.middleware.AxesMiddleware",
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
                "messaging.context_processors.inbox",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that accepts connections but does not answer must not hang every request:
    # connecting gives up after DATABASE_CONNECT_TIMEOUT seconds, and the server cancels any
    # statement running longer than DATABASE_STATEMENT_TIMEOUT (0: no limit, e.g. for a long
    # migration). Both bounds keep a webhook's answer within Twilio's 15 s. Values given in
    # DATABASE_URL's query string (?connect_timeout=..., ?options=...) win.
    _options: dict[str, Any] = DATABASES["default"].setdefault("OPTIONS", {})  # type: ignore[assignment]
    _options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
    _statement_timeout = env_int("DATABASE_STATEMENT_TIMEOUT", 10)
    if _statement_timeout and "statement_timeout" not in str(_options.get("options", "")):
        _options["options"] = (
            f"{_options.get('options', '')} -c statement_timeout={_statement_timeout * 1000}"
        ).strip()
# var/ holds the embedded database (manage.py makes the directory), collected static files and
# file-backend mail (collectstatic and the mail backend make theirs). Loading the settings
# creates nothing.
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# The cache uses REDIS_URL, or the Celery broker when only that names a Redis server.
_cache_url = REDIS_URL or (
    os.environ.get("CELERY_BROKER_URL", "")
    if os.environ.get("CELERY_BROKER_URL", "").startswith(("redis://", "rediss://"))
    else ""
)
# Every Redis call (the broker's publish, the cache, the single-send list) gives up after this
# many seconds, so a Redis that accepts connections but never answers fails a call instead of
# hanging a web request or a worker; what was not published waits in the database for the sweep.
REDIS_SOCKET_TIMEOUT_SECONDS = float(env_int("REDIS_SOCKET_TIMEOUT_SECONDS", 5))
_redis_timeouts = {
    "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _cache_url,
        "OPTIONS": _redis_timeouts,
    }
    if _cache_url
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login attempts (django-axes): after AXES_FAILURE_LIMIT failed logins for one username, each
# within AXES_COOLOFF_TIME of the previous, that username is refused (the right password too)
# until AXES_COOLOFF_TIME after the last failure; attempts while locked do not extend it.
# Counted in the database (every process sees them); a successful login clears the count;
# `manage.py axes_reset_username NAME` unlocks.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Only failures are kept (and removed once expired), not a row per successful login.
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "config.throttling.lockout_response"
# axes.W006 asks to lock by address too: behind the TLS proxy or a campus NAT many people share
# one address, so ten typos anywhere would lock everyone out. The username is what is guessed.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Says why a form was refused (e.g. https-only cookies over plain http) and what to do.
CSRF_FAILURE_VIEW = "config.csrf.csrf_failure"
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
# With DEBUG off, collectstatic writes hashed, compressed copies and WhiteNoise serves them with
# a one-year cache header; with DEBUG on the files are served as they are, from the apps.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "config.storage.StaticFilesStorage"
    },
}

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
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, **_redis_timeouts}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Kombu's Redis transport with one repair (config/redis_broker.py): without it a worker holding a
# task when Redis goes away exits instead of reconnecting (Celery 5.7, kombu 5.7).
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT = "config.redis_broker:Transport"
# Worker and beat wait for the broker as long as it is away (Celery's default gives up after 100
# attempts, about 46 minutes, and the process exits).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Celery's Django fixup closes the database connection around every task unless this is set
# (measured on a 2-core machine: a one-statement task ran at 238/s by default, 825/s with 1000).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
# A text left in `sending` this long is reconciled by the sweep (looked up at Twilio); a message
# back in `queued` after a failed attempt is published again by the sweep after this long too.
SMS_STUCK_AFTER_SECONDS = env_int("SMS_STUCK_AFTER_SECONDS", 600)
# The sweep runs this often (beat), and publishes again a message still `queued` with no attempt
# this long after it was recorded: its task was lost, or never published while the broker was down.
SWEEP_EVERY_SECONDS = env_int("SWEEP_EVERY_SECONDS", 60)
SWEEP_QUEUED_AFTER_SECONDS = env_int("SWEEP_QUEUED_AFTER_SECONDS", 60)
# T3 "retry later" codes (30003, 30008) reported by a status callback: a new attempt after each
# of these delays (picked up by the sweep), then the email fallback. Empty: email at once.
SMS_UNREACHABLE_RETRY_SECONDS = tuple(
    int(s) for s in os.environ.get("SMS_UNREACHABLE_RETRY_SECONDS", "900,3600").split(",") if s
)
# Idempotency keys of API sends are honoured this long, then purged by a daily beat job.
SEND_REQUEST_KEEP_DAYS = env_int("SEND_REQUEST_KEEP_DAYS", 7)
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-messages": {
        "task": "twilio_bridge.tasks.sweep_stuck_messages",
        "schedule": float(SWEEP_EVERY_SECONDS),
    },
    "sweep-outbox": {
        "task": "messaging.tasks.sweep_outbox",
        "schedule": float(SWEEP_EVERY_SECONDS),
    },
    # Scheduled texts and texts held by quiet hours, released when due.
    "release-scheduled-messages": {
        "task": "messaging.tasks.release_scheduled_messages",
        "schedule": 60.0,
    },
    "purge-send-requests": {"task": "messaging.tasks.purge_send_requests", "schedule": 86400.0},
    "sweep-usage-alerts": {"task": "sms_admin.tasks.usage_alerts_sweep", "schedule": 300.0},
    # The unanswered-replies digest (V5), each morning at opening time, institution time zone.
    "unanswered-digests": {
        "task": "messaging.tasks.send_unanswered_digests",
        "schedule": crontab(minute=0, hour=8),
    },
}

# Twilio: unset credentials mean the local sandbox (twilio_bridge.sandbox).
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_SANDBOX = not (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)
# Webhooks fail closed: without real credentials they refuse every request (403), except in the
# embedded default (DEBUG on, no Twilio credential set), where the sandbox signs with its public
# token. A production start that forgot the credentials must not trust a token anyone can read.
TWILIO_WEBHOOKS_OPEN = not TWILIO_SANDBOX or (
    DEBUG and not (TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN)
)
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

# Requests per caller to the REST API (e.g. 1000/min, 50/s, 20000/hour).
API_THROTTLE_RATE = env_rate("API_THROTTLE_RATE", "1000/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's defaults, with a JSON parser that refuses bodies nested deeper than 64 levels (400).
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per caller (token or login) at API_THROTTLE_RATE, counted in the default cache: 429 with
    # Retry-After over it. The webhooks are not DRF views and are never throttled.
    "DEFAULT_THROTTLE_CLASSES": ["config.throttling.ApiRateThrottle"],
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
        # django-axes logs each failed login at INFO; lockouts are warnings.
        "axes": {"level": "WARNING"},
        # The SDK logs every request at INFO with recipients' numbers and message bodies.
        "twilio.http_client": {"level": "WARNING"},
    },
}

if not DEBUG:
    # Cookies over https only. Served over plain http (a trial without TLS), browsers do not
    # send them back and every form fails its CSRF check: set DJANGO_SECURE_COOKIES=false there.
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", False)
    # Twilio's webhooks and /healthz probes from the proxy's side arrive over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^twilio/"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
