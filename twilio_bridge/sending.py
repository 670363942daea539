"""The worker's side of sending a text (S6): claim, route again, send through the gateway, act on
the outcome; and the reconciliation of texts whose fate is unknown.

Lives in twilio_bridge because it talks to Twilio (gateway); every write goes through
messaging.services.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from messaging import policy, routing, selectors
from messaging import services as messaging_services
from messaging.models import Channel, Direction, FailureReason, Message, Status
from people.models import Person, PersonPhone
from sms_admin import pool
from sms_admin.models import SmsConfiguration
from twilio_bridge import gateway

logger = logging.getLogger(__name__)

# Attempts at Twilio before a transiently failing text falls back to email (RETRIES_EXHAUSTED).
MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class SendOutcome:
    kind: str  # skipped | sent | failed | retry | review
    retry_in: float | None = None


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter: about 2, 4, 8, 16, 32 seconds, capped at 5 minutes."""
    base = min(300.0, 2.0**attempt)
    return base / 2 + random.uniform(0, base / 2)


def sms_send(*, message_id: int) -> SendOutcome:
    """Send one queued text once. A duplicate or redelivered task finds it claimed and sends
    nothing. Never called inside a transaction: the Twilio request is made in autocommit."""
    message = messaging_services.message_sms_claim(message_id=message_id)
    if message is None:
        return SendOutcome("skipped")
    # Route again at send time: a phone disabled (STOP, by hand) since queuing is never texted.
    # The configuration comes with the sender's current pool number, in one query.
    facts = (
        selectors.route_facts_for_person_id(message.recipient_id)
        if message.recipient_id is not None
        else None
    )
    return _sms_deliver(message, facts, selectors.send_configuration(message.sender_id))


def sms_send_batch(
    *, message_ids: Sequence[int], on_retry: Callable[[int, float], None] | None = None
) -> dict[int, SendOutcome]:
    """Send a batch of queued texts (a cohort's), each once, with the guarantees of `sms_send`.

    One query reads the batch's queued texts, one their recipients with phones, one the
    configuration per sender; then each text is claimed on its own right before its request
    (a duplicate or redelivered batch finds it claimed and skips it; a worker killed mid-batch
    leaves at most the text in flight in `sending`, the rest queued for the redelivered task),
    routed again with those facts, sent, and its outcome written.

    A text Twilio could not take now is handed to `on_retry(message_id, seconds)` at once, so
    its backoff starts then, whatever happens to the rest of the batch.

    Returns the outcome of each text this call claimed; the others are absent.
    """
    messages = messaging_services.message_sms_queued(message_ids=message_ids)
    recipient_ids = {m.recipient_id for m in messages if m.recipient_id is not None}
    facts = {
        f.id: f
        for f in selectors.route_facts_for_people(
            Person.objects.filter(pk__in=recipient_ids), stream=False
        )
    }
    configs: dict[int | None, SmsConfiguration | None] = {}
    outcomes: dict[int, SendOutcome] = {}
    for message in messages:
        if not messaging_services.message_sms_claim_loaded(message=message):
            continue
        if message.sender_id not in configs:
            configs[message.sender_id] = selectors.send_configuration(message.sender_id)
        facts_of = facts.get(message.recipient_id) if message.recipient_id is not None else None
        outcome = _sms_deliver(message, facts_of, configs[message.sender_id])
        if outcome.retry_in is not None and on_retry is not None:
            on_retry(message.pk, outcome.retry_in)
        outcomes[message.pk] = outcome
    return outcomes


def _sms_deliver(
    message: Message, facts: routing.PersonFacts | None, config: SmsConfiguration | None
) -> SendOutcome:
    """The claimed text `message` (in `sending`): route it again with the recipient's current
    `facts`, pick its sender number from `config` (`selectors.send_configuration`), send it
    through the gateway and record the outcome."""
    config_facts = (
        selectors.config_facts_of(config) if config is not None else selectors.config_facts()
    )
    route = routing.route(facts, config_facts) if facts is not None else None
    if route is None or route.channel != "sms" or route.phone is None:
        reason = route.reason if route is not None else FailureReason.NO_SMS_PHONE
        messaging_services.message_sms_failed(
            message_id=message.pk, reason=reason, created_at=message.created_at
        )
        return SendOutcome("failed")
    from_number: str = getattr(config, "sender_number", None) or ""
    if not from_number and message.sender_id is not None:
        # The assignment was deleted since queuing (S8): a free number, or none.
        sender: Person = message.sender  # type: ignore[assignment]
        assignment = pool.sender_number_ensure(person=sender)
        from_number = assignment.sender_number.number if assignment is not None else ""
        if config is not None and from_number:
            # The rest of a batch from this sender uses the number just assigned.
            config.sender_number = from_number  # type: ignore[attr-defined]
    if not from_number:
        messaging_services.message_sms_failed(
            message_id=message.pk,
            reason=FailureReason.NO_SENDER_NUMBER,
            created_at=message.created_at,
        )
        return SendOutcome("failed")
    messaging_services.message_sms_retarget(
        message=message, phone_id=route.phone.id, number=route.phone.number, from_number=from_number
    )
    result = gateway.message_create(
        to=route.phone.number,
        body=message.body,
        from_=from_number,
        status_callback=gateway.status_callback_url(str(message.token)),
    )
    if result.outcome == gateway.ACCEPTED:
        messaging_services.message_sms_accepted(message_id=message.pk, twilio_sid=result.sid)
        return SendOutcome("sent")
    if result.outcome == gateway.REFUSED:
        phone = PersonPhone.objects.filter(pk=route.phone.id).first()
        decision = policy.error_policy_apply(code=result.error_code, phone=phone)
        if not decision.retry:
            messaging_services.message_sms_failed(
                message_id=message.pk,
                reason=decision.failure_reason,
                error_code=result.error_code,
                created_at=message.created_at,
            )
            return SendOutcome("failed")
    if result.outcome in (gateway.TRANSIENT, gateway.REFUSED):
        if message.attempts >= MAX_ATTEMPTS:
            messaging_services.message_sms_failed(
                message_id=message.pk,
                reason=FailureReason.RETRIES_EXHAUSTED,
                error_code=result.error_code,
                created_at=message.created_at,
            )
            return SendOutcome("failed")
        messaging_services.message_sms_requeue(message_id=message.pk)
        return SendOutcome("retry", retry_in=backoff_seconds(message.attempts))
    # Ambiguous: the request may have reached Twilio. Look it up; never send it again blindly.
    messaging_services.message_sms_flag_review(message_id=message.pk, detail=result.detail)
    return SendOutcome(sms_reconcile(message_id=message.pk, final=False))


def sms_reconcile(*, message_id: int, final: bool) -> str:
    """Settle a text stuck in `sending` by asking Twilio whether it has it.

    Found (same number, sender and body, a SID we do not know yet) -> sent with that SID. Not
    found and `final` (the sweep, long after any request could still be in flight) -> it was
    never accepted: failed with NEEDS_REVIEW and the email fallback. Twilio cannot be asked, or
    not `final` -> it stays in `sending` with NEEDS_REVIEW for the next sweep.
    """
    message = Message.objects.filter(pk=message_id, status=Status.SENDING).first()
    if message is None:
        return "skipped"
    remote = gateway.message_lookup(to=message.destination, from_=message.from_number)
    if remote is None:
        return "review"
    since = message.created_at - timedelta(minutes=1)
    candidates = [
        r
        for r in remote
        if r.body == message.body and (r.date_created is None or r.date_created >= since)
    ]
    known = set(
        Message.objects.filter(twilio_sid__in=[r.sid for r in candidates]).values_list(
            "twilio_sid", flat=True
        )
    )
    fresh = [r for r in candidates if r.sid not in known]
    if fresh:
        # The oldest unclaimed match is ours (Twilio lists newest first).
        messaging_services.message_sms_accepted(message_id=message.pk, twilio_sid=fresh[-1].sid)
        return "sent"
    if not final:
        return "review"
    messaging_services.message_sms_failed(
        message_id=message.pk, reason=FailureReason.NEEDS_REVIEW, created_at=message.created_at
    )
    return "failed"


def _stuck_after() -> timedelta:
    return timedelta(seconds=settings.SMS_STUCK_AFTER_SECONDS)


def messages_sweep(*, limit: int = 500) -> dict[str, int]:
    """The beat job: re-queue texts and emails left in `queued` (a lost task), reconcile texts
    left in `sending` (a worker killed mid-send, a lost answer), send again, once, emails left in
    `sending` (their outcome is unknown; a duplicate email beats a lost one), and enqueue the
    scheduled retries of texts (`not_before`) whose time has come."""
    cutoff = timezone.now() - _stuck_after()
    outbound = Message.objects.filter(direction=Direction.OUTBOUND, updated_at__lt=cutoff)
    counts = {"requeued": 0, "reconciled": 0}
    from messaging import tasks as messaging_tasks
    from twilio_bridge import tasks as bridge_tasks

    # Scheduled retries whose time has come (T3 "retry later"; their own backoff, not a countdown).
    due = Message.objects.filter(
        direction=Direction.OUTBOUND, status=Status.QUEUED, not_before__lte=timezone.now()
    )
    for pk in due.values_list("pk", flat=True)[:limit]:
        if messaging_services.message_sms_retry_due(message_id=pk):
            bridge_tasks.send_sms.delay(message_id=pk)
            counts["requeued"] += 1
    waiting = outbound.filter(status=Status.QUEUED, not_before__isnull=True)
    for pk, channel in waiting.values_list("pk", "channel")[:limit]:
        if channel == Channel.SMS:
            bridge_tasks.send_sms.delay(message_id=pk)
        elif channel == Channel.EMAIL:
            messaging_tasks.deliver_email.delay(message_id=pk)
        counts["requeued"] += 1
    stuck = outbound.filter(status=Status.SENDING, channel=Channel.SMS).values_list("pk", flat=True)
    for pk in stuck[:limit]:
        sms_reconcile(message_id=pk, final=True)
        counts["reconciled"] += 1
    emails = outbound.filter(status=Status.SENDING, channel=Channel.EMAIL)
    for pk in emails.values_list("pk", flat=True)[:limit]:
        if messaging_services.message_email_unstick(message_id=pk, cutoff=cutoff):
            messaging_tasks.deliver_email.delay(message_id=pk)
            counts["requeued"] += 1
        else:
            counts["reconciled"] += 1
    return counts
