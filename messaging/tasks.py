"""Celery tasks of messaging: emails (fallbacks, texts routed to email) and the outbox of emails
to staff (reply notifications, administrators' alerts)."""

from __future__ import annotations

from collections import Counter

from celery import shared_task
from django.conf import settings
from django.core import mail

from messaging import digest, enqueue, idempotency, outbox, pacing, send_queue, services


@shared_task(acks_late=True, name=enqueue.DELIVER_EMAIL)
def deliver_email(*, message_id: int) -> str:
    return str(services.message_email_deliver(message_id=message_id).status)


@shared_task(acks_late=True, name=enqueue.DELIVER_EMAILS)
def deliver_emails(*, message_ids: list[int]) -> dict[str, int]:
    """A cohort's emails, a batch per task; each is claimed and sent on its own, as by
    `deliver_email`, so a redelivered batch sends none of them twice."""
    # One email session for the batch; a message whose send fails goes back to `queued` alone.
    with mail.get_connection() as connection:
        statuses = [
            str(services.message_email_deliver(message_id=pk, connection=connection).status)
            for pk in message_ids
        ]
    return dict(Counter(statuses))


@shared_task
def release_scheduled_messages() -> int:
    """The beat job (every minute) releasing the scheduled texts whose time has come (K5, K6);
    two beat processes release each text once (messaging.services.messages_release_due)."""
    released = services.messages_release_all_due()
    # The safety net of the pacer's chain (K7): a lost pacer task is replaced within a minute.
    run = pacing.messages_pace()
    if run.next_at is not None:
        enqueue.pace(run.next_at, after_commit=False)
    return released


@shared_task(name=enqueue.PACE_SENDERS)
def pace_senders() -> int:
    """The pacer (K7): admit what each sender number may send this second, then run again with
    a short countdown while texts wait (messaging.pacing)."""
    send_queue.pace_started()
    run = pacing.messages_pace()
    if run.next_at is not None:
        enqueue.pace(run.next_at, after_commit=False)
    return run.admitted


@shared_task
def purge_send_requests() -> int:
    """The daily beat job forgetting old idempotency keys of API sends."""
    return idempotency.send_requests_purge(older_than_days=settings.SEND_REQUEST_KEEP_DAYS)


@shared_task
def send_unanswered_digests() -> int:
    """The daily beat job emailing each staff member their conversations waiting too long for
    an answer (V5); at most once per staff member per day, whoever runs it."""
    return digest.unanswered_digests_send()


@shared_task(acks_late=True, name=enqueue.SEND_OUTBOX_EMAIL)
def send_outbox_email(*, outbox_id: int) -> str:
    """A reply notification (C5) or administrators' alert (T3) from the outbox, sent by a worker
    so no SMTP runs inside Twilio's webhook request."""
    return outbox.outbox_email_send(outbox_id=outbox_id)


@shared_task
def sweep_outbox() -> dict[str, int]:
    """The beat job publishing again outbox emails whose task never came (a broker outage)."""
    return outbox.outbox_sweep()
