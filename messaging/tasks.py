"""Celery tasks of messaging: emails of messages routed to email from the start."""

from __future__ import annotations

from celery import shared_task

from messaging import services


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def deliver_email(*, message_id: int) -> str:
    return str(services.message_email_deliver(message_id=message_id).status)
