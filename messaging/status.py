"""Twilio status callbacks (T2, T3): idempotent, monotonic, and the error-code policy.

A callback is applied with one conditional UPDATE: the row changes only when the new status
ranks higher than the stored one (`STATUS_RANK`), so a duplicate, a replay or a late "sent"
after "delivered" matches no row and changes nothing. Only the request whose UPDATE changed the
row applies the consequences of a failure (phones disabled, email fallback), so 20 parallel
copies of one callback have exactly one effect.

Callbacks find their message by our own token (`?token=` in the callback URL; works even before
the send task stored Twilio's SID) or else by MessageSid. Unknown messages and unknown statuses
are logged and answered 2xx by the view: Twilio must not retry them.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from messaging import policy
from messaging import services as messaging_services
from messaging.models import STATUS_RANK, Channel, Direction, Message, Status
from sms_admin.models import PolicyAction

logger = logging.getLogger(__name__)

# Twilio's MessageStatus values (outbound) and the status each one means here. Values Twilio
# sends only for the initial state or for inbound messages change nothing (rank 0 / absent).
TWILIO_STATUSES: dict[str, str] = {
    "accepted": Status.QUEUED,
    "scheduled": Status.QUEUED,
    "queued": Status.QUEUED,
    "sending": Status.SENDING,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "read": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
    "canceled": Status.FAILED,
}
FAILED_STATUSES = frozenset({Status.UNDELIVERED, Status.FAILED})


@dataclass(frozen=True)
class StatusOutcome:
    """What a callback did: `found` a message, `changed` its status."""

    found: bool
    changed: bool


def _lookup(*, token: uuid.UUID | None, message_sid: str) -> Q:
    # By token only when the callback URL carries one: it is ours and cannot collide.
    if token is not None:
        return Q(token=token)
    return Q(twilio_sid=message_sid)


def _update(
    texts: QuerySet[Message], fields: dict[str, object], *, token: uuid.UUID | None, sid: str
) -> int:
    if token is None:
        return texts.update(**fields)
    # Found by our token: a callback that overtook the send task also stores Twilio's SID. A SID
    # that already belongs to another message (only a bug could cause it) is logged. In autocommit
    # (a webhook request) the failed statement harms nothing and costs no extra round trip; inside
    # a caller's transaction a savepoint keeps it from breaking that transaction.
    savepoint = transaction.atomic() if transaction.get_connection().in_atomic_block else None
    try:
        with savepoint or contextlib.nullcontext():
            return texts.update(twilio_sid=Coalesce(F("twilio_sid"), Value(sid)), **fields)
    except IntegrityError:
        logger.error("MessageSid %s already belongs to another message; not stored", sid)
        return texts.update(**fields)


def message_status_apply(
    *,
    message_sid: str,
    twilio_status: str,
    token: uuid.UUID | None = None,
    error_code: int | None = None,
) -> StatusOutcome:
    """Apply one Twilio status callback to its outbound text.

    Statuses only move forward. When this callback is the one that moved the text to
    undelivered/failed, the T3 policy runs once (see `message_delivery_failure_handle`).
    Never raises for unknown messages or statuses: they are logged and reported as not found /
    not changed.
    """
    status = TWILIO_STATUSES.get(twilio_status.strip().lower())
    if status is None:
        logger.warning(
            "Status callback for %s with unknown MessageStatus %r: ignored",
            message_sid,
            twilio_status,
        )
        return StatusOutcome(found=False, changed=False)
    rank = STATUS_RANK[status]
    # A scheduled or cancelled text has never been handed to Twilio: no callback moves it.
    lower = [
        s
        for s, r in STATUS_RANK.items()
        if r < rank and s not in (Status.RECEIVED, Status.SCHEDULED, Status.CANCELED)
    ]
    now = timezone.now()
    fields: dict[str, object] = {
        "status": status,
        "updated_at": now,
    }
    if status == Status.DELIVERED:
        fields["delivered_at"] = now
    if status == Status.SENT:
        fields["sent_at"] = Coalesce(F("sent_at"), Value(now))
    if status in FAILED_STATUSES and error_code is not None:
        fields["error_code"] = error_code
    texts = Message.objects.filter(
        _lookup(token=token, message_sid=message_sid),
        direction=Direction.OUTBOUND,
        channel=Channel.SMS,
    )
    if status in FAILED_STATUSES:
        return _failure_apply(
            texts,
            lower,
            fields,
            token=token,
            sid=message_sid,
            code=error_code,
            twilio_status=twilio_status,
        )
    # The common path (sent, delivered): one UPDATE in autocommit, no transaction.
    changed = _update(texts.filter(status__in=lower), fields, token=token, sid=message_sid)
    if not changed:
        return _unchanged(texts, twilio_status=twilio_status, sid=message_sid, token=token)
    return StatusOutcome(found=True, changed=True)


def _failure_apply(
    texts: QuerySet[Message],
    lower: list[str],
    fields: dict[str, object],
    *,
    token: uuid.UUID | None,
    sid: str,
    code: int | None,
    twilio_status: str,
) -> StatusOutcome:
    """undelivered/failed: the status, the policy (phones) and the queued email fallback in ONE
    transaction. A process dying half-way rolls all of it back, so Twilio's retry of the same
    callback finds the text still below the failed rank and applies T3 in full."""
    with transaction.atomic():
        changed = _update(texts.filter(status__in=lower), fields, token=token, sid=sid)
        if changed:
            message_id = texts.values_list("pk", flat=True).get()
            message_delivery_failure_handle(message_id=message_id, error_code=code)
    if not changed:
        return _unchanged(texts, twilio_status=twilio_status, sid=sid, token=token)
    return StatusOutcome(found=True, changed=True)


def _unchanged(
    texts: QuerySet[Message], *, twilio_status: str, sid: str, token: uuid.UUID | None
) -> StatusOutcome:
    current = texts.values_list("pk", "status").first()
    if current is None:
        logger.warning(
            "Status callback %r for unknown message (MessageSid %s, token %s): ignored",
            twilio_status,
            sid,
            token,
        )
        return StatusOutcome(found=False, changed=False)
    logger.info(
        "Status callback %r for message %s (now %s) changes nothing",
        twilio_status,
        current[0],
        current[1],
    )
    return StatusOutcome(found=True, changed=False)


def message_delivery_failure_handle(*, message_id: int, error_code: int | None) -> None:
    """Apply T3 to a text Twilio reported as undelivered/failed: phones, reason, and then either
    another attempt later or the email fallback (queued; sent by a task after commit).

    Call it once per failed text, inside the caller's transaction (the conditional UPDATE
    guarantees once). A "retry later" code (action retry_then_email: 30003, 30008) schedules a
    new attempt of the text after a backoff (`message_sms_retry_schedule`) while attempts are
    left, then falls back to email. Every other action falls back to email at once; so does
    `retry` (20429) reported by a callback, which cannot be a throttled request of ours.

    :raises Message.DoesNotExist: when the message does not exist.
    """
    text = Message.objects.select_related("phone").get(pk=message_id)
    decision = policy.error_policy_apply(code=error_code, phone=text.phone)
    Message.objects.filter(pk=message_id).update(failure_reason=decision.failure_reason)
    if decision.action == PolicyAction.RETRY_THEN_EMAIL and (
        messaging_services.message_sms_retry_schedule(
            message_id=message_id, reason=decision.failure_reason
        )
        is not None
    ):
        return
    messaging_services.message_email_fallback(message_id=message_id, reason=decision.failure_reason)
