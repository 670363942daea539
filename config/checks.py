"""Deploy checks: `manage.py check --deploy` refuses the embedded defaults in production."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.database, deploy=True)
def embedded_defaults_in_production(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if settings.DEBUG:
        return []
    errors = []
    if str(settings.DATABASES["default"]["ENGINE"]).endswith("sqlite3"):
        errors.append(
            Error(
                "SQLite is the embedded default and is not for production.",
                hint="Set DATABASE_URL, e.g. postgres://user@host:5432/sms.",
                id="sms.E001",
            )
        )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        errors.append(
            Error(
                "Celery tasks run in-process (no broker configured).",
                hint="Set CELERY_BROKER_URL or REDIS_URL to a Redis server and run a worker.",
                id="sms.E002",
            )
        )
    if settings.TWILIO_SANDBOX:
        errors.append(
            Error(
                "Texts go to the local Twilio sandbox, not to Twilio.",
                hint="Set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID.",
                id="sms.E003",
            )
        )
    public = urlsplit(settings.PUBLIC_BASE_URL)
    if public.scheme != "https" or _is_local_host(public.hostname or ""):
        errors.append(
            Error(
                f"PUBLIC_BASE_URL ({settings.PUBLIC_BASE_URL}) is not a public https origin; "
                "Twilio cannot call it and signature checks would fail.",
                hint="Set PUBLIC_BASE_URL to the https origin Twilio reaches, "
                "e.g. https://sms.example.edu.",
                id="sms.E004",
            )
        )
    if settings.SECRET_KEY.startswith("embedded-insecure"):
        errors.append(
            Error(
                "DJANGO_SECRET_KEY is not set: the embedded, publicly known key is in use.",
                hint="Set DJANGO_SECRET_KEY to a long random value "
                "(python -c 'import secrets; print(secrets.token_urlsafe(50))').",
                id="sms.E005",
            )
        )
    return errors


def _is_local_host(host: str) -> bool:
    unroutable = {"", "localhost", "0.0.0.0", "::1", "::"}  # noqa: S104  (a list, not a bind)
    return host in unroutable or host.startswith("127.")
