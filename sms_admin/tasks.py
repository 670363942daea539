"""Celery tasks of sms_admin: the administrators' usage alerts (A2)."""

from __future__ import annotations

from celery import shared_task

from sms_admin import alerts


@shared_task(acks_late=True, name=alerts.USAGE_ALERT_EMAIL)
def usage_alert_email(*, alert_id: int) -> bool:
    """Email one usage alert to administrators; a duplicate task sends nothing."""
    return alerts.usage_alert_email(alert_id=alert_id)


@shared_task
def usage_alerts_sweep() -> int:
    """The beat job publishing usage alerts that no task emailed (a broker outage)."""
    return alerts.usage_alerts_sweep()
