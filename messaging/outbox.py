"""The outbox of emails owed to staff: reply notifications (C5) and administrators' alerts (T3).

A row is written in the caller's transaction, with what calls for it (the inbound text, the
failure of a text), so it exists exactly when that change committed; its task is published on
commit. Should the broker be down, or the task be lost, the sweep (`outbox_sweep`, every minute)
publishes it again. Each email is claimed (`pending` -> `sending`, a conditional UPDATE) by the
one worker that sends it, so a task delivered twice sends nothing twice. A worker that dies
between the claim and recording the answer leaves the outcome unknown: after
`SMS_STUCK_AFTER_SECONDS` the sweep sends it again (a duplicate notification is less harmful than
a lost one), within `MAX_ATTEMPTS`. A send that raised (mail server down) is retried the same way.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from messaging import enqueue, notifications
from messaging.models import Message, OutboxEmail, OutboxKind, OutboxStatus

logger = logging.getLogger(__name__)

# Claims of one email before it is given up as failed (logged as an error).
MAX_ATTEMPTS = 3
# Administrators hear of a sender-side error code at most once in this many seconds.
ALERT_EVERY_SECONDS = 3600


def _add(kind: str, key: str, payload: dict[str, Any]) -> OutboxEmail | None:
    """Write the row in the caller's transaction and publish its task on commit; None when a
    row with this key already exists (written by a concurrent transaction, or earlier)."""
    # A savepoint: a concurrent insert of the same key must not break the caller's transaction.
    with transaction.atomic():
        row, created = OutboxEmail.objects.get_or_create(
            kind=kind, key=key, defaults={"payload": payload}
        )
    if not created:
        return None
    enqueue.outbox_email(row.pk)
    return row


def reply_notification_add(*, message: Message) -> OutboxEmail | None:
    """The reply notification for the inbound `message` (one per message)."""
    return _add(OutboxKind.REPLY_NOTIFICATION, f"message:{message.pk}", {"message_id": message.pk})


def admins_alert_add(*, code: int | None, reason: str) -> OutboxEmail | None:
    """The administrators' alert about a sender-side error `code`, unless one about this code
    was written within the last `ALERT_EVERY_SECONDS` (a campaign failing on an unregistered
    number must not send one email per text). The rule is kept in the database, not a cache:
    it holds across processes and restarts, and nothing is dropped when Redis is down. Two
    transactions racing on the same code share the key of that hour, so one row is written."""
    now = timezone.now()
    recent = OutboxEmail.objects.filter(
        kind=OutboxKind.ADMINS_ALERT,
        key__startswith=f"{code}:",
        created_at__gte=now - timedelta(seconds=ALERT_EVERY_SECONDS),
    )
    if recent.exists():
        return None
    return _add(
        OutboxKind.ADMINS_ALERT,
        f"{code}:{now:%Y-%m-%dT%H}",
        {"code": code, "reason": reason},
    )


def _email(row: OutboxEmail) -> EmailMessage | None:
    payload = row.payload
    if row.kind == OutboxKind.REPLY_NOTIFICATION:
        return notifications.reply_notification_email(message_id=int(payload["message_id"]))
    if row.kind == OutboxKind.ADMINS_ALERT:
        return notifications.admins_alert_email(code=payload["code"], reason=payload["reason"])
    raise ValueError(f"Unknown outbox email kind {row.kind!r}")


def outbox_email_send(*, outbox_id: int) -> str:
    """Send the pending email `outbox_id` once; returns its status afterwards.

    Claimed first, so a duplicate or redelivered task sends nothing. Nothing to send (no address)
    ends `skipped`. A send that raised goes back to `pending` for the sweep while attempts
    remain, then ends `failed`."""
    now = timezone.now()
    claimed = OutboxEmail.objects.filter(pk=outbox_id, status=OutboxStatus.PENDING).update(
        status=OutboxStatus.SENDING, attempts=F("attempts") + 1, updated_at=now
    )
    row = OutboxEmail.objects.filter(pk=outbox_id).first()
    if row is None:
        return "missing"
    if not claimed:
        return row.status
    mine = OutboxEmail.objects.filter(pk=outbox_id, status=OutboxStatus.SENDING)
    try:
        email = _email(row)
        if email is None:
            mine.update(status=OutboxStatus.SKIPPED, updated_at=timezone.now())
            return OutboxStatus.SKIPPED
        email.send()
    except Exception:
        final = row.attempts >= MAX_ATTEMPTS
        logger.exception(
            "Outbox email %s (%s) could not be sent%s",
            outbox_id,
            row.kind,
            "; giving up" if final else "; the sweep will try again",
        )
        status = OutboxStatus.FAILED if final else OutboxStatus.PENDING
        mine.update(status=status, updated_at=timezone.now())
        return status
    mine.update(status=OutboxStatus.SENT, sent_at=timezone.now(), updated_at=timezone.now())
    return OutboxStatus.SENT


def _seconds_ago(seconds: int) -> datetime:
    return timezone.now() - timedelta(seconds=seconds)


def outbox_sweep(*, limit: int = 500) -> dict[str, int]:
    """The beat job (every `SWEEP_EVERY_SECONDS`): publish again pending emails nobody claimed
    `SWEEP_QUEUED_AFTER_SECONDS` after they were written (a broker outage, a lost task) or whose
    send raised `SMS_STUCK_AFTER_SECONDS` ago; put back emails left in `sending` that long (a
    worker died: outcome unknown) while attempts remain, else fail them. Oldest first, at most
    `limit` of each."""
    fresh_cutoff = _seconds_ago(settings.SWEEP_QUEUED_AFTER_SECONDS)
    stuck_cutoff = _seconds_ago(settings.SMS_STUCK_AFTER_SECONDS)
    counts = {"requeued": 0, "failed": 0}
    stuck = OutboxEmail.objects.filter(status=OutboxStatus.SENDING, updated_at__lt=stuck_cutoff)
    for pk in stuck.order_by("pk").values_list("pk", flat=True)[:limit]:
        row = stuck.filter(pk=pk)
        now = timezone.now()
        if row.filter(attempts__lt=MAX_ATTEMPTS).update(
            status=OutboxStatus.PENDING, updated_at=now
        ):
            enqueue.outbox_email(pk, after_commit=False)
            counts["requeued"] += 1
        elif row.update(status=OutboxStatus.FAILED, updated_at=now):
            logger.error("Outbox email %s was never confirmed sent; marked failed", pk)
            counts["failed"] += 1
    pending = OutboxEmail.objects.filter(status=OutboxStatus.PENDING).filter(
        Q(attempts=0, updated_at__lt=fresh_cutoff) | Q(attempts__gt=0, updated_at__lt=stuck_cutoff)
    )
    for pk in pending.order_by("pk").values_list("pk", flat=True)[:limit]:
        enqueue.outbox_email(pk, after_commit=False)
        counts["requeued"] += 1
    return counts
