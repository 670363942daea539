"""Deploy checks: `manage.py check --deploy` refuses the embedded defaults in production."""

from __future__ import annotations

from typing import Any

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
    if settings.PUBLIC_BASE_URL.startswith("http://127.0.0.1"):
        errors.append(
            Error(
                "PUBLIC_BASE_URL still points at this machine; Twilio cannot call it.",
                hint="Set PUBLIC_BASE_URL to the https origin Twilio reaches.",
                id="sms.E004",
            )
        )
    return errors
