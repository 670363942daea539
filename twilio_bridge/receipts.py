"""Recording and reading when Twilio's webhooks last arrived (C9's health line)."""

from __future__ import annotations

import time
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from twilio_bridge.models import WebhookReceipt

# A busy webhook should not write the same row on every request: each process writes at most
# once per interval, so the time shown is at most this many seconds old.
WRITE_INTERVAL_SECONDS = 10.0
_last_written: dict[str, float] = {}


def webhook_receipt_record(*, kind: str, force: bool = False) -> bool:
    """Note that a signed webhook of `kind` arrived now. Returns whether the row was written."""
    monotonic = time.monotonic()
    previous = _last_written.get(kind)
    if not force and previous is not None and monotonic - previous < WRITE_INTERVAL_SECONDS:
        return False
    _last_written[kind] = monotonic
    now = timezone.now()
    if WebhookReceipt.objects.filter(kind=kind).update(last_received_at=now):
        return True
    try:
        with transaction.atomic():
            WebhookReceipt.objects.create(kind=kind, last_received_at=now)
    except IntegrityError:
        WebhookReceipt.objects.filter(kind=kind).update(last_received_at=now)
    return True


def webhook_receipt_last(*, kind: str) -> datetime | None:
    """When a signed webhook of `kind` last arrived, or None if never."""
    return (
        WebhookReceipt.objects.filter(kind=kind).values_list("last_received_at", flat=True).first()
    )
