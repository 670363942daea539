"""Settings for the real Celery worker the worker-kill test starts: a short broker visibility
timeout, so a task whose worker died is redelivered within seconds instead of an hour."""

from __future__ import annotations

from config.settings import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
