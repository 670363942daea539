"""Outbound sends, their worker transitions and the email fallback (S1-S9, R5, S6, T3); inbound
writes live in messaging.inbound, status callbacks in messaging.status.

A send is checked (S1 permitted role, S5 body), routed (R1-R5), given a sender number (S2) and a
unit of this month's limit (S4), recorded, and queued on commit; the request returns at once.
The decision "by text or by email, and why" is messaging.delivery's; the worker
(messaging.sending) moves the text on with the `message_sms_*` services here.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Field, Q, QuerySet
from django.utils import timezone

from messaging import (
    compiled,
    delivery,
    enqueue,
    inbox_services,
    merge,
    pacing,
    quiet_hours,
    routing,
    segments,
    selectors,
)
from messaging.models import Channel, Cohort, Direction, FailureReason, Message, Status
from people.models import Person
from sms_admin import alerts, pool
from sms_admin import services as sms_admin_services

logger = logging.getLogger(__name__)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _fallback_email(text: Message) -> EmailMessage:
    sender = text.sender
    sender_name = sender.full_name if sender else "Your student success office"
    reply_hint = (
        f"To answer, reply to this email or write to {sender.email}."
        if sender and sender.email
        else "To answer, reply to this email."
    )
    body = (
        f"{sender_name} sent you a text message that could not be delivered by SMS:\n\n"
        f"{text.body}\n\n{reply_hint}\n"
    )
    return EmailMessage(
        subject=f"Message from {sender_name}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[text.recipient.email] if text.recipient else [],
        reply_to=[sender.email] if sender and sender.email else None,
    )


def message_email_fallback(*, message_id: int, reason: str) -> Message:
    """Record the email that stands in for the text `message_id`, once, and queue it.

    The fallback is its own message, linked to the text it replaces (`replaces`), carrying
    `reason`, created `queued`; `deliver_email` sends it after the caller's transaction commits
    (no SMTP inside a webhook request or a transaction; the sweep re-queues it if the task is
    lost). A second call for the same text returns the existing fallback and queues nothing (a
    unique constraint guards against races). With no email address the fallback is recorded as
    undeliverable (channel none, reason NO_EMAIL).
    """
    text = Message.objects.select_related("sender", "recipient").get(pk=message_id)
    existing = Message.objects.filter(replaces=text).first()
    if existing is not None:
        return existing
    email = text.recipient.email if text.recipient else ""
    try:
        with transaction.atomic():
            fallback = _message(
                sender=text.sender,
                recipient_id=text.recipient_id,
                body=text.body,
                way=delivery.instead_of_sms(reason, email),
            )
            fallback.replaces = text
            fallback.cohort_id = text.cohort_id
            fallback.save()
            inbox_services.conversations_record([fallback])
    except IntegrityError:
        return Message.objects.get(replaces=text)
    if email:
        enqueue.email(fallback.pk)
    return fallback


# --- checks (S1, S5) ------------------------------------------------------------------------


def _sender_check(
    sender: Person | None, context: selectors.SendContext, recipient_id: int | None = None
) -> Person:
    refusal = selectors.send_refusal(sender, recipient_id=recipient_id, context=context)
    if refusal:
        raise PermissionDenied(refusal)
    assert sender is not None
    return sender


def _body_check(body: str, context: selectors.SendContext) -> str:
    """Empty, unknown placeholders, too long. With merge fields the length is checked on each
    merged text (`_merged_bodies`)."""
    if not body or not body.strip():
        raise ValidationError({"body": "Write a message: the text is empty."})
    refusal = merge.refusal(body)
    if refusal:
        raise ValidationError({"body": refusal})
    if not merge.placeholders(body) and len(body) > context.sms_max_length:
        raise ValidationError(
            {
                "body": f"The text is {len(body)} characters long; the limit is "
                f"{context.sms_max_length} (smsMaxLength). Shorten it and send again."
            }
        )
    return body


def _merged_bodies(
    sender: Person,
    people: Sequence[routing.PersonFacts],
    body: str,
    context: selectors.SendContext,
) -> list[str]:
    """Each person's text, its merge fields replaced; refused whole (nothing is recorded: the
    caller's transaction rolls back) when a merged text is empty or over smsMaxLength."""
    if not merge.placeholders(body):
        return [body] * len(people)
    bodies = [
        merge.merge(
            body,
            merge.values_for(
                first_name=facts.first_name,
                last_name=facts.last_name,
                staff_first_name=sender.first_name,
                staff_last_name=sender.last_name,
            ),
        )
        for facts in people
    ]
    for facts, merged in zip(people, bodies, strict=True):
        who = f"{facts.first_name} {facts.last_name}".strip() or f"person {facts.id}"
        if not merged.strip():
            raise ValidationError({"body": f"Merged for {who} (id {facts.id}) the text is empty."})
        if len(merged) > context.sms_max_length:
            raise ValidationError(
                {
                    "body": f"Merged for {who} (id {facts.id}) the text is {len(merged)} "
                    f"characters long; the limit is {context.sms_max_length} (smsMaxLength). "
                    "Shorten it and send again."
                }
            )
    return bodies


# --- recording and queuing ------------------------------------------------------------------


def _message(
    *,
    sender: Person | None,
    recipient_id: int | None,
    body: str,
    way: delivery.Plan,
    cohort_id: int | None = None,
) -> Message:
    """The message a delivery plan describes, queued (or failed when it goes nowhere)."""
    if not way.by_sms:
        return Message(
            direction=Direction.OUTBOUND,
            sender=sender,
            recipient_id=recipient_id,
            channel=way.channel,
            destination=way.destination,
            body=body,
            status=Status.QUEUED if way.channel == Channel.EMAIL else Status.FAILED,
            failure_reason=way.failure_reason,
            cohort_id=cohort_id,
        )
    assert way.phone is not None
    info = segments.segments_count(body)
    return Message(
        direction=Direction.OUTBOUND,
        sender=sender,
        recipient_id=recipient_id,
        cohort_id=cohort_id,
        channel=Channel.SMS,
        destination=way.destination,
        from_number=way.from_number,
        phone_id=way.phone.id,
        body=body,
        status=Status.QUEUED,
        segments=info.segments,
        encoding=info.encoding,
    )


# How far ahead a text may be scheduled (K5).
SCHEDULE_AT_LEAST = timedelta(minutes=1)
SCHEDULE_AT_MOST = timedelta(days=90)


def _send_at_check(send_at: datetime | None, now: datetime) -> datetime | None:
    """A requested `send_at` (aware; a naive one is read in the institution's time zone): at
    least a minute and at most 90 days ahead of `now`, else refused naming `send_at`."""
    if send_at is None:
        return None
    if timezone.is_naive(send_at):
        send_at = timezone.make_aware(send_at)
    local = timezone.localtime(send_at).strftime("%Y-%m-%d %H:%M %Z")
    if send_at < now + SCHEDULE_AT_LEAST:
        raise ValidationError(
            {
                "send_at": f"{local} is in the past or less than a minute from now; choose a "
                "time at least one minute ahead, or send now without send_at."
            }
        )
    if send_at > now + SCHEDULE_AT_MOST:
        raise ValidationError(
            {
                "send_at": f"{local} is more than 90 days ahead; texts can be scheduled at most "
                "90 days in advance."
            }
        )
    return send_at


def _held_until(
    send_at: datetime | None, now: datetime, context: selectors.SendContext
) -> datetime | None:
    """When a text asked for `send_at` (None: now) is held by quiet hours (K6), their end;
    None when it is not held."""
    moment = send_at or now
    allowed = quiet_hours.next_allowed(
        moment,
        context.quiet_hours_start,
        context.quiet_hours_end,
        timezone.get_current_timezone(),
    )
    return allowed if allowed != moment else None


def _when(
    send_at: datetime | None,
    now: datetime,
    context: selectors.SendContext,
    recipient_ids: Sequence[int],
) -> tuple[datetime | None, set[int]]:
    """When the texts to `recipient_ids` leave: (None, _) now, else (the time, the people
    whose text goes now anyway). A text held by quiet hours still goes at once to a person who
    texted in the last 2 hours (a reply); one scheduled by its sender waits for its time."""
    held = _held_until(send_at, now, context)
    if held is None:
        return send_at, set()
    if send_at is not None:
        return held, set()
    return held, selectors.texted_recently(recipient_ids, now=now)


def message_send(
    *, sender: Person | None, recipient_id: int, body: str, send_at: datetime | None = None
) -> Message:
    """Record one text from `sender` to a person and queue it; returns at once (S6).

    The one-recipient case of a cohort (`message_send_bulk`): the delivery plan decides
    (messaging.delivery): by SMS when routing finds a phone (R2-R4), the sender has or gets a
    pool number (S2) and this month's limit is not reached (S4); otherwise by email with the
    reason (NO_SMS_PHONE, NO_SENDER_NUMBER, SMS_LIMIT_REACHED), or nowhere with NO_EMAIL (R5).

    :raises PermissionDenied: when the sender may not send (S1) or texts themselves.
    With `send_at` (K5) it is recorded `scheduled` and decided when due
    (`messages_release_due`).

    :raises PermissionDenied: when the sender may not send (S1) or texts themselves.
    :raises ValidationError: when the body is empty or longer than smsMaxLength (S5), the
        recipient does not exist, or `send_at` is not between a minute and 90 days ahead.
    """
    context = selectors.send_context(sender.pk if sender is not None else None)
    sender = _sender_check(sender, context, recipient_id)
    body = _body_check(body, context)
    now = timezone.now()
    send_at = _send_at_check(send_at, now)
    facts = selectors.route_facts_for_person_id(recipient_id)
    if facts is None:
        raise ValidationError({"recipient": f"There is no person with id {recipient_id}."})
    send_at, at_once = _when(send_at, now, context, [recipient_id])
    with transaction.atomic():
        recorded = _record(sender, [facts], body, context, send_at, at_once)
        _enqueue(recorded, single=True)
    return recorded[0]


@dataclass
class BulkSendResult:
    message_ids: list[int] = field(default_factory=list)
    # (channel, failure_reason) -> how many messages.
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    unknown_recipients: list[int] = field(default_factory=list)
    # Texts waiting for their time (K5, K6): not in `counts`, their way is decided when due.
    scheduled: int = 0
    send_at: datetime | None = None
    cohort_id: int | None = None


def _cohort_check(sender: Person, ids: list[int], batch_size: int) -> list[int]:
    """All or nothing: a cohort naming somebody who does not exist, or the sender, is refused
    before anything is recorded (one query per batch)."""
    if not ids:
        raise ValidationError({"recipients": "Name at least one recipient."})
    if sender.pk in ids:
        raise ValidationError(
            {
                "recipients": f"Your own person id ({sender.pk}) is in the list: "
                f"{selectors.SELF_TEXT_REFUSAL}"
            }
        )
    unknown: list[int] = []
    for batch in enqueue.batches(ids, batch_size):
        found = set(Person.objects.filter(pk__in=batch).values_list("pk", flat=True))
        unknown += [pid for pid in batch if pid not in found]
    if unknown:
        shown = ", ".join(str(pid) for pid in unknown[:20])
        more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
        raise ValidationError(
            {
                "recipients": f"There is no person with id {shown}{more}. Nothing was sent; "
                "remove these ids and send again."
            }
        )
    return ids


def message_send_bulk(
    *,
    sender: Person | None,
    recipient_ids: Iterable[int],
    body: str,
    batch_size: int = 1000,
    send_at: datetime | None = None,
) -> BulkSendResult:
    """One message per recipient of a cohort, routed a batch at a time (R7): a fixed number of
    queries per batch, whatever its size; texts and emails go to the worker
    `enqueue.TASK_BATCH_SIZE` to a task.

    :raises PermissionDenied: when the sender holds no permitted role (S1).
    :raises ValidationError: when the body is empty or longer than smsMaxLength (S5), or the
        cohort is empty, names the sender or somebody who does not exist (nothing is sent), or
        `send_at` is not between a minute and 90 days ahead (K5: the cohort is then recorded
        `scheduled`).
    """
    context = selectors.send_context(sender.pk if sender is not None else None)
    sender = _sender_check(sender, context)
    body = _body_check(body, context)
    now = timezone.now()
    send_at = _send_at_check(send_at, now)
    wanted = list(dict.fromkeys(recipient_ids))
    try:
        return _cohort_record(
            sender,
            _cohort_check(sender, wanted, batch_size),
            body,
            context,
            batch_size,
            send_at,
            now,
        )
    except IntegrityError:
        # A recipient was deleted while the cohort was being recorded (PostgreSQL checks the
        # foreign keys at commit). Nothing was recorded: check and record once more, and the
        # check now names whoever is gone.
        return _cohort_record(
            sender,
            _cohort_check(sender, wanted, batch_size),
            body,
            context,
            batch_size,
            send_at,
            now,
        )


def _jit_off() -> None:
    """For the rest of the caller's transaction, no JIT compilation on PostgreSQL: a cohort's
    routing read (1,000 people joined with their phones) is estimated above `jit_above_cost`,
    and compiling it took about 30 ms of a 35-60 ms query (bench/send/preview.py). Nothing on
    other databases."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _without_jit(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`function` run in a transaction without JIT (`_jit_off`): for reads of whole cohorts."""

    @functools.wraps(function)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with transaction.atomic():
            _jit_off()
            return function(*args, **kwargs)

    return run


@dataclass(frozen=True)
class Preview:
    """What a cohort send would do now, recorded nowhere."""

    count: int
    channels: Counter[str]
    reasons: Counter[str]
    segments: int  # the most segments of one text going by SMS
    total_segments: int
    monthly_remaining_after: int
    estimated_cost: Decimal
    # When the texts would go when not now: the `send_at` asked for, or the end of quiet hours
    # (K6; a person who texted in the last 2 hours would still get theirs at once).
    send_at: datetime | None = None
    # When the last text would leave its sender number's pace (K7); None: not paced.
    last_leaves_at: datetime | None = None


@_without_jit
def message_send_preview(
    *,
    sender: Person | None,
    recipient_ids: Iterable[int],
    body: str,
    batch_size: int = 1000,
    send_at: datetime | None = None,
) -> Preview:
    """What `message_send_bulk` would do with the same request now, through the same checks
    and the same delivery plan, without recording, reserving or assigning anything: per channel
    and per reason, the segments of each merged text, what the month has left after it, and the
    estimated cost at the configured price per segment, and when the last text would leave its
    number's pace (K7). Queries: 3 + 2 per batch, and 1 more when texts are paced.

    :raises PermissionDenied: when the sender may not send (S1).
    :raises ValidationError: as `message_send_bulk` would, naming what is wrong.
    """
    context = selectors.send_context(sender.pk if sender is not None else None)
    sender = _sender_check(sender, context)
    body = _body_check(body, context)
    now = timezone.now()
    send_at = _send_at_check(send_at, now)
    leaves_at = _held_until(send_at, now, context) or send_at
    ids = _cohort_check(sender, list(dict.fromkeys(recipient_ids)), batch_size)
    from_number = selectors.number_for_plan(context.sender_number, sender.pk)
    # Texts are counted in the month they leave (K5): a cohort scheduled into next month has
    # that month's room.
    month = pool.monthly_usage_summary(leaves_at, limit=context.sms_message_limit)
    units = month.remaining
    channels: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    most = total = count = 0
    # Each text's segments, in order, for when the last would leave (K7).
    sizes: list[int] = []
    for batch in enqueue.batches(ids, batch_size):
        people = list(
            selectors.route_facts_for_people(Person.objects.filter(pk__in=batch), stream=False)
        )
        bodies = _merged_bodies(sender, people, body, context)
        routes = [routing.route(facts, context.config) for facts in people]
        ways = delivery.plans(
            [(route, facts.email) for route, facts in zip(routes, people, strict=True)],
            from_number=from_number,
            units=units,
        )
        for way, text in zip(ways, bodies, strict=True):
            count += 1
            channels[way.channel] += 1
            if way.by_sms:
                units -= 1
                parts = segments.segments_count(text).segments
                most, total = max(most, parts), total + parts
                sizes.append(parts)
            else:
                reasons[way.why_not_sms] += 1
    price = sms_admin_services.configuration_get().price_per_segment
    return Preview(
        count=count,
        channels=channels,
        reasons=reasons,
        segments=most,
        total_segments=total,
        monthly_remaining_after=units,
        estimated_cost=(price * total).quantize(Decimal("0.01")),
        send_at=leaves_at,
        last_leaves_at=pacing.last_leaves_at(
            number=context.sender_number,
            rate=context.sender_segments_per_second,
            start=leaves_at or now,
            sizes=sizes,
            quiet=(context.quiet_hours_start, context.quiet_hours_end),
        ),
    )


def _ways(
    sender: Person | None,
    people: Sequence[routing.PersonFacts],
    context: selectors.SendContext,
) -> list[delivery.Plan]:
    """The one decision of how each message travels, now (a send, or a scheduled text's release):
    route each person (R1-R5), take the sender's number (S2) and
    this month's units (S4) for the texts that need them, and let the delivery plan decide."""
    routes = [routing.route(facts, context.config) for facts in people]
    from_number = context.sender_number
    if not from_number and sender is not None and any(r.channel == "sms" for r in routes):
        assignment = pool.sender_number_ensure(person=sender)
        from_number = assignment.sender_number.number if assignment is not None else ""
        if assignment is None:
            # A sender who may text holds a staff role: no number means none is free (C7).
            alerts.number_limit_alert(person=sender)
    wanted = delivery.texts_wanted(routes, from_number=from_number)
    # The month is that of the reservation; the rows' created_at follow within the same
    # transaction (a boundary falling between them would misplace at most this batch).
    units = 0
    if wanted:
        taken = pool.monthly_usage_take(count=wanted, limit=context.sms_message_limit)
        units = taken.granted
        alerts.usage_alerts_check(taken)
    return delivery.plans(
        [(route, facts.email) for route, facts in zip(routes, people, strict=True)],
        from_number=from_number,
        units=units,
    )


def _scheduled(
    *,
    sender: Person,
    recipient_id: int,
    body: str,
    send_at: datetime,
    cohort_id: int | None = None,
) -> Message:
    """A text waiting for `send_at`: only its sender, recipient and (merged) body are decided;
    the channel shown until then is SMS, the way is decided when it is released."""
    return Message(
        direction=Direction.OUTBOUND,
        sender=sender,
        recipient_id=recipient_id,
        channel=Channel.SMS,
        body=body,
        status=Status.SCHEDULED,
        send_at=send_at,
        cohort_id=cohort_id,
    )


_insert_one = compiled.CompiledInsert(Message)


def _record(
    sender: Person,
    people: Sequence[routing.PersonFacts],
    body: str,
    context: selectors.SendContext,
    send_at: datetime | None = None,
    at_once: set[int] | frozenset[int] = frozenset(),
    cohort_id: int | None = None,
) -> list[Message]:
    """Record one message per person of `people` (a single send, or a batch of a cohort) in
    the caller's transaction, decided now (`_ways`), or `scheduled` for `send_at` (decided when
    released, `messages_release_due`), except the people of `at_once`, decided now.

    Returns the saved messages, in order; `context.sender_number` is the number the sender held
    when the send began (a batch that assigns one hands it on through the returned messages).
    """
    bodies = _merged_bodies(sender, people, body, context)
    now = [facts for facts in people if send_at is None or facts.id in at_once]
    ways = iter(_ways(sender, now, context) if now else [])
    messages = [
        _message(
            sender=sender, recipient_id=facts.id, body=text, way=next(ways), cohort_id=cohort_id
        )
        if send_at is None or facts.id in at_once
        else _scheduled(
            sender=sender,
            recipient_id=facts.id,
            body=text,
            send_at=send_at,
            cohort_id=cohort_id,
        )
        for facts, text in zip(people, bodies, strict=True)
    ]
    # Pacing (K7): the texts beyond what their number may send now wait for their slot.
    pacing.messages_plan(messages, rate=context.sender_segments_per_second, now=timezone.now())
    if len(messages) == 1:
        # A single send: the INSERT written once (messaging.compiled), with the inbox's upsert
        # in the same statement where the database allows.
        message = messages[0]
        after = inbox_services.conversation_record_after_insert(message)
        if not _insert_one.save(message, then=after):
            inbox_services.conversations_record(messages)
        return messages
    saved = Message.objects.bulk_create(messages)
    # The inbox's conversations: one statement for the batch.
    inbox_services.conversations_record(saved)
    return saved


def _enqueue(messages: Sequence[Message], *, single: bool = False) -> None:
    """Publish the queued messages on commit: a single send's as one task, a cohort's in
    batches."""
    queued = [m for m in messages if m.status == Status.QUEUED]
    # A text waiting for its number's pace (K7) is published by the pacer, which is woken.
    paced = [m.leaves_at for m in queued if m.leaves_at is not None]
    if paced:
        enqueue.pace(min(paced))
    texts = [m.pk for m in queued if m.channel == Channel.SMS and m.leaves_at is None]
    emails = [m.pk for m in queued if m.channel == Channel.EMAIL]
    if single:
        for pk in texts:
            enqueue.sms(pk)
        for pk in emails:
            enqueue.email(pk)
        return
    enqueue.sms_batches(texts)
    enqueue.email_batches(emails)


def _cohort_record(
    sender: Person,
    recipient_ids: list[int],
    body: str,
    context: selectors.SendContext,
    batch_size: int,
    send_at: datetime | None = None,
    now: datetime | None = None,
) -> BulkSendResult:
    result = BulkSendResult()
    # All or nothing: one transaction for the whole cohort (at most 10,000 from the API, about
    # 3 s), so a request that dies half-way has recorded and queued nothing, and a repeat is
    # safe. Until it commits it holds this month's counter row (other sends, failure callbacks
    # giving a unit back and T3 retries wait; none overshoots) and, for a sender's first send,
    # the pool's lock on the configuration row (other first sends and configuration saves wait).
    with transaction.atomic():
        _jit_off()
        cohort = Cohort.objects.create(sender=sender, body=body)
        result.cohort_id = cohort.pk
        for batch in enqueue.batches(recipient_ids, batch_size):
            # One query per batch (R7): the batch's people joined with their phones, streamed.
            people = list(
                selectors.route_facts_for_people(
                    Person.objects.filter(pk__in=batch), batch_size=batch_size
                )
            )
            found = {facts.id: facts for facts in people}
            result.unknown_recipients += [pid for pid in batch if pid not in found]
            # Quiet hours (K6): one more query per batch, only while they hold the texts.
            leaves_at, at_once = _when(send_at, now or timezone.now(), context, list(found))
            messages = _record(
                sender,
                [found[pid] for pid in batch if pid in found],
                body,
                context,
                leaves_at,
                at_once,
                cohort.pk,
            )
            if not context.sender_number:
                held = next((m.from_number for m in messages if m.from_number), "")
                if held:
                    # The number assigned by this batch serves the next ones (no new lookup).
                    context = replace(context, sender_number=held)
            for message in messages:
                result.message_ids.append(message.pk)
                if message.status == Status.SCHEDULED:
                    result.scheduled += 1
                    result.send_at = message.send_at
                else:
                    result.counts[(message.channel, message.failure_reason)] += 1
            _enqueue(messages)
        Cohort.objects.filter(pk=cohort.pk).update(count=len(result.message_ids))
    return result


# --- scheduled texts (K5) -------------------------------------------------------------------

# The fields a release decides (the rest was decided when the text was recorded).
_RELEASED_FIELDS = [
    "status",
    "leaves_at",
    "channel",
    "destination",
    "from_number",
    "phone",
    "segments",
    "encoding",
    "failure_reason",
    "created_at",
    "updated_at",
]

_DECIDED_ATTRIBUTES = [
    "status",
    "channel",
    "destination",
    "from_number",
    "phone_id",
    "segments",
    "encoding",
    "failure_reason",
]

RELEASE_BATCH_SIZE = 500


def messages_release_due(*, batch_size: int = RELEASE_BATCH_SIZE) -> int:
    """Release one batch of the scheduled texts whose `send_at` has come (the beat job, every
    minute, repeats it until fewer than `batch_size` are left); returns how many were released.

    Each is decided now, by the same `_ways` as a send: routed on today's data (R1-R7), given
    the sender's number and a unit of this month (the month it leaves: `created_at` becomes the
    moment of release), then queued (or failed, going nowhere) and published on commit. A
    sender deleted or no longer permitted, or a recipient deleted, cancels the text.

    Released once: the batch is locked (`FOR UPDATE SKIP LOCKED`: a second beat process takes
    other rows or none) and moved out of `scheduled` in the same transaction, so a process
    killed mid-release rolls back and the texts stay `scheduled` for the next minute. A
    cancellation racing the release waits for it and then finds the text no longer scheduled.
    Queries: a fixed number per batch, plus 1-2 per distinct sender in it.
    """
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=Status.SCHEDULED, send_at__lte=now)
            .order_by("send_at", "pk")
            .only("pk", "sender_id", "recipient_id", "body", "send_at", "created_at", "leaves_at")[
                :batch_size
            ]
        )
        if not due:
            return 0
        people = {
            facts.id: facts
            for facts in selectors.route_facts_for_people(
                Person.objects.filter(pk__in={m.recipient_id for m in due if m.recipient_id}),
                stream=False,
            )
        }
        senders = Person.objects.in_bulk({m.sender_id for m in due if m.sender_id})
        by_sender: dict[int | None, list[Message]] = {}
        for message in due:
            by_sender.setdefault(message.sender_id, []).append(message)
        released: list[Message] = []
        for sender_id, texts in by_sender.items():
            sender = senders.get(sender_id) if sender_id is not None else None
            context = selectors.send_context(sender_id) if sender is not None else None
            going = [
                m
                for m in texts
                if context is not None
                and context.sender_permitted
                and m.recipient_id is not None
                and m.recipient_id in people
            ]
            if len(going) < len(texts):
                kept = {m.pk for m in going}
                for message in texts:
                    if message.pk not in kept:
                        message.status = Status.CANCELED
            if going:
                assert sender is not None and context is not None
                ways = _ways(sender, [people[m.recipient_id or 0] for m in going], context)
                for message, way in zip(going, ways, strict=True):
                    decided = _message(
                        sender=sender, recipient_id=message.recipient_id, body=message.body, way=way
                    )
                    for name in _DECIDED_ATTRIBUTES:
                        setattr(message, name, getattr(decided, name))
                # Paced like a send (K7): a due cohort of 10,000 is spread over time too.
                pacing.messages_plan(going, rate=context.sender_segments_per_second, now=now)
                released += going
        for message in due:
            message.created_at = message.updated_at = now
        _released_write(due)
        _enqueue(released)
    return len(due)


def _released_write(messages: Sequence[Message]) -> None:
    """Write what a release decided (`_RELEASED_FIELDS`) for a batch, in one statement.

    On PostgreSQL one `UPDATE ... FROM (VALUES ...)` joins the rows to their new values; the
    ORM's `bulk_update` builds a CASE of 500 branches per field and compiling it took about
    1.3 s of CPU a batch of 500 (bench/send/release.py), most of the release. Elsewhere
    `bulk_update`."""
    if connection.vendor != "postgresql":
        Message.objects.bulk_update(messages, _RELEASED_FIELDS)
        return
    quote = connection.ops.quote_name
    fields: list[Field[Any, Any]] = []
    for name in _RELEASED_FIELDS:
        field = Message._meta.get_field(name)
        assert isinstance(field, Field)
        fields.append(field)
    columns = [str(field.column) for field in fields]
    row = "(%s::bigint, " + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields)
    params: list[Any] = []
    for message in messages:
        params.append(message.pk)
        params += [
            field.get_db_prep_save(getattr(message, field.attname), connection) for field in fields
        ]
    table = quote(Message._meta.db_table)
    assignments = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns)
    names = ", ".join(["id", *(quote(c) for c in columns)])
    values = ", ".join([row + ")"] * len(messages))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS m SET {assignments} FROM (VALUES {values}) "  # noqa: S608
            f"AS v({names}) WHERE m.id = v.id",
            params,
        )


# At most this many batches per beat run: the next minute's run takes the rest.
RELEASE_MAX_BATCHES = 40


def messages_release_all_due(*, batch_size: int = RELEASE_BATCH_SIZE) -> int:
    """Release the due scheduled texts batch after batch (`messages_release_due`), each batch
    its own transaction; stops when a batch comes back short. Returns how many."""
    total = 0
    for _ in range(RELEASE_MAX_BATCHES):
        released = messages_release_due(batch_size=batch_size)
        total += released
        if released < batch_size:
            break
    return total


class NotCancelable(Exception):
    """The text is no longer scheduled nor waiting for its number's pace (it left, or was
    cancelled already)."""

    def __init__(self, message: Message) -> None:
        self.message = message
        super().__init__(
            f"This text is {message.get_status_display().lower()}, not scheduled: only a "
            "scheduled text, or one still waiting for its turn to leave, can be cancelled."
        )


def _cancel(texts: QuerySet[Message]) -> int:
    """Cancel `texts` that are still scheduled or waiting for their number's pace (K7): both
    by UPDATEs on locked rows, so a release or a pacer racing them takes each text whole or not
    at all. A waiting text had its unit of the month taken when it was recorded: given back.
    Returns how many were cancelled."""
    now = timezone.now()
    with transaction.atomic():
        waiting = list(
            texts.filter(status=Status.QUEUED, leaves_at__isnull=False)
            .select_for_update()
            .values_list("pk", "created_at")
        )
        if waiting:
            Message.objects.filter(pk__in=[pk for pk, _ in waiting]).update(
                status=Status.CANCELED, leaves_at=None, updated_at=now
            )
            months: Counter[tuple[int, int]] = Counter(
                pool.month_key(created) for _, created in waiting
            )
            firsts = {pool.month_key(created): created for _, created in waiting}
            for month, count in months.items():
                pool.monthly_usage_release(at=firsts[month], count=count)
        scheduled = texts.filter(status=Status.SCHEDULED).update(
            status=Status.CANCELED, updated_at=now
        )
    return len(waiting) + int(scheduled)


def message_cancel(*, message_id: int, actor: Person | None, is_administrator: bool) -> Message:
    """A scheduled text, or one waiting for its number's pace, -> canceled (a release or the
    pacer racing it wins or loses whole). Only its sender and administrators may cancel it.

    :raises Message.DoesNotExist: there is no outbound message with this id.
    :raises PermissionDenied: the actor is neither its sender nor an administrator.
    :raises NotCancelable: the text is no longer scheduled.
    """
    message = Message.objects.get(pk=message_id, direction=Direction.OUTBOUND)
    if not is_administrator and (actor is None or message.sender_id != actor.pk):
        raise PermissionDenied("Only the text's sender or an administrator may cancel it.")
    canceled = _cancel(Message.objects.filter(pk=message_id))
    message.refresh_from_db()
    if not canceled:
        raise NotCancelable(message)
    return message


def cohort_cancel(*, cohort_id: int) -> int:
    """Its texts still `scheduled`, or waiting for their number's pace, become `canceled`
    (a release or a pacer racing it takes each text whole or not at all); returns how many.
    The caller checks who may.

    :raises NothingScheduled: none of its texts is scheduled or waiting any more.
    """
    canceled = _cancel(Message.objects.filter(cohort_id=cohort_id))
    if not canceled:
        raise NothingScheduled(
            "None of this cohort's texts is scheduled or waiting any more: they have left or "
            "were cancelled already."
        )
    return canceled


class NothingScheduled(Exception):
    """A cohort with no text left to cancel."""


# An email whose send outcome is unknown (the worker died between claiming and recording the
# answer) is sent again by the sweep until it has been claimed this many times: a duplicate email
# is less harmful than a lost one. A send that raised is retried the same way.
EMAIL_MAX_ATTEMPTS = 2


def message_email_deliver(*, message_id: int, connection: Any = None) -> Message:
    """Send one queued email message (routed to email from the start, or a text's fallback).

    The message is claimed (queued -> sending) by a conditional UPDATE, so a duplicate or
    redelivered task sends nothing twice. A failed send goes back to `queued` for the sweep
    while attempts remain (`EMAIL_MAX_ATTEMPTS`), then ends `failed`. `connection`: an open
    email connection to reuse (a batch of emails shares one SMTP session).
    """
    now = timezone.now()
    claimed = Message.objects.filter(
        pk=message_id, channel=Channel.EMAIL, status=Status.QUEUED
    ).update(status=Status.SENDING, attempts=F("attempts") + 1, updated_at=now)
    message = Message.objects.select_related("sender", "recipient").get(pk=message_id)
    if not claimed:
        return message
    # A fallback reads as the text it replaces (same sender, recipient and body).
    try:
        email = _fallback_email(message)
        email.connection = connection
        email.send()
    except Exception:
        logger.exception("Email message %s could not be sent", message_id)
        final = message.attempts >= EMAIL_MAX_ATTEMPTS
        Message.objects.filter(pk=message_id, status=Status.SENDING).update(
            status=Status.FAILED if final else Status.QUEUED, updated_at=timezone.now()
        )
        message.refresh_from_db()
        return message
    Message.objects.filter(pk=message_id, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), updated_at=timezone.now()
    )
    message.refresh_from_db()
    return message


def message_email_unstick(*, message_id: int, cutoff: datetime) -> bool:
    """An email left in `sending` since before `cutoff`: its send outcome is unknown. While
    attempts remain it goes back to `queued` (returns True: enqueue it again), else it fails."""
    stuck = Message.objects.filter(
        pk=message_id, channel=Channel.EMAIL, status=Status.SENDING, updated_at__lt=cutoff
    )
    now = timezone.now()
    if stuck.filter(attempts__lt=EMAIL_MAX_ATTEMPTS).update(status=Status.QUEUED, updated_at=now):
        return True
    if stuck.update(status=Status.FAILED, updated_at=now):
        logger.error("Email message %s was never confirmed sent; marked failed", message_id)
    return False


# --- the worker's transitions of a text (S6) --------------------------------------------------


def message_sms_claim(*, message_id: int) -> Message | None:
    """queued -> sending, by a conditional UPDATE: only one worker ever holds a text, and never
    one still waiting for its number's pace (K7)."""
    now = timezone.now()
    claimed = (
        Message.objects.filter(
            pk=message_id, channel=Channel.SMS, status=Status.QUEUED, leaves_at__isnull=True
        )
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .update(status=Status.SENDING, attempts=F("attempts") + 1, updated_at=now)
    )
    if not claimed:
        return None
    return Message.objects.select_related("sender", "recipient", "phone").get(pk=message_id)


# A worker's batch reads its queued texts with every column: compiled once (messaging.compiled).
_MESSAGE_COLUMNS = [f.attname for f in Message._meta.concrete_fields]
_queued_read = compiled.CompiledRead(
    lambda message_ids: (
        Message.objects.filter(
            pk__in=message_ids, channel=Channel.SMS, status=Status.QUEUED, leaves_at__isnull=True
        )
        .order_by("pk")
        .values(*_MESSAGE_COLUMNS)
    ),
    arity=1,
    lists=(0,),
)


def message_sms_queued(*, message_ids: Sequence[int]) -> list[Message]:
    """The texts of `message_ids` still queued and due, in id order (their sender is read only
    if used: a sender whose number was released meanwhile); 1 query. Each is then claimed on
    its own (`message_sms_claim_loaded`) right before its request, so a worker that dies
    mid-batch leaves the rest queued, not half-claimed."""
    now = timezone.now()
    texts = [
        Message.from_db("default", _MESSAGE_COLUMNS, [row[c] for c in _MESSAGE_COLUMNS])
        for row in _queued_read.rows(list(message_ids))
    ]
    # Not yet due: a retry waiting out its backoff (T3).
    return [m for m in texts if m.not_before is None or m.not_before <= now]


# The two writes every text of a batch makes, as SQL: the ORM's compilation of each cost about
# as much as the rest of the text's handling outside the provider request (bench/send).
_CLAIM_LOADED = (
    f"UPDATE {Message._meta.db_table} SET status = %s, attempts = %s, updated_at = %s "  # noqa: S608
    "WHERE id = %s AND status = %s AND attempts = %s "
    "AND (not_before IS NULL OR not_before <= %s) AND leaves_at IS NULL"
)
_ACCEPTED = (
    f"UPDATE {Message._meta.db_table} SET status = %s, twilio_sid = %s, sent_at = %s, "  # noqa: S608
    "failure_reason = '', updated_at = %s WHERE id = %s AND status = %s"
)


# A batch's next claim and the previous text's acceptance, in one statement: per text of a batch
# one round trip instead of two. Each row is moved only under its own condition (the accepted
# text while `sending`, the claimed one under `_CLAIM_LOADED`'s own condition, reused verbatim:
# status and attempts as read, due), and RETURNING names the rows that moved, so each write keeps
# the meaning it has alone.
_CLAIM_CONDITION = _CLAIM_LOADED.split("WHERE id = %s AND ", 1)[1]
_ACCEPTED_AND_CLAIM = (
    f"UPDATE {Message._meta.db_table} SET "  # noqa: S608
    "status = CASE WHEN id = %s THEN %s ELSE %s END, "
    "twilio_sid = CASE WHEN id = %s THEN %s ELSE twilio_sid END, "
    "sent_at = CASE WHEN id = %s THEN %s ELSE sent_at END, "
    "failure_reason = CASE WHEN id = %s THEN '' ELSE failure_reason END, "
    "attempts = CASE WHEN id = %s THEN %s ELSE attempts END, "
    "updated_at = %s "
    f"WHERE (id = %s AND status = %s) OR (id = %s AND {_CLAIM_CONDITION}) RETURNING id"
)


def _write(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _accepted_and_claim(accepted: tuple[int, str], message: Message, at: Any) -> tuple[bool, bool]:
    """`_ACCEPTED_AND_CLAIM`: (the accepted text moved to `sent`, `message` was claimed)."""
    accepted_id, sid = accepted
    claimed_id = message.pk
    params = [
        *(accepted_id, Status.SENT, Status.SENDING),
        *(accepted_id, sid),
        *(accepted_id, at),
        accepted_id,
        *(claimed_id, message.attempts + 1),
        at,
        *(accepted_id, Status.SENDING),
        *(claimed_id, Status.QUEUED, message.attempts, at),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_ACCEPTED_AND_CLAIM, params)
        moved = {row[0] for row in cursor.fetchall()}
    return accepted_id in moved, claimed_id in moved


def message_sms_claim_loaded(*, message: Message, accepted: tuple[int, str] | None = None) -> bool:
    """queued -> sending for a text read while queued (`message_sms_queued`), only if nobody has
    moved it since: the UPDATE is conditioned on the status and the attempt count that were
    read, so `message` in memory stays exact (True) or the text is left alone (False).

    `accepted`: (message id, SID) of the batch's previous text, which Twilio took: written as
    `message_sms_accepted` would, in the same statement as this claim (a batch's texts then
    cost one round trip each, not two; the SID is written before the next request leaves, as
    it was when the two were separate)."""
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    if accepted is None:
        claimed = bool(
            _write(
                _CLAIM_LOADED,
                [
                    *(Status.SENDING, message.attempts + 1, at, message.pk),
                    *(Status.QUEUED, message.attempts, at),
                ],
            )
        )
    else:
        moved, claimed = _accepted_and_claim(accepted, message, at)
        if not moved:
            _accepted_overtaken(message_id=accepted[0], twilio_sid=accepted[1], now=now)
    if claimed:
        message.status, message.attempts, message.updated_at = (
            Status.SENDING,
            message.attempts + 1,
            now,
        )
    return bool(claimed)


def message_sms_retarget(*, message: Message, phone_id: int, number: str, from_number: str) -> None:
    """Routing at send time chose another phone or sender number than at request time."""
    if (message.phone_id, message.destination, message.from_number) == (
        phone_id,
        number,
        from_number,
    ):
        return
    message.phone_id, message.destination, message.from_number = phone_id, number, from_number
    message.save(update_fields=["phone", "destination", "from_number", "updated_at"])


def message_sms_accepted(*, message_id: int, twilio_sid: str) -> None:
    """Twilio took the text: sending -> sent with its SID (never backwards: a status callback
    that overtook this answer may already have moved it further)."""
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    moved = _write(_ACCEPTED, [Status.SENT, twilio_sid, at, at, message_id, Status.SENDING])
    if not moved:
        _accepted_overtaken(message_id=message_id, twilio_sid=twilio_sid, now=now)


def _accepted_overtaken(*, message_id: int, twilio_sid: str, now: datetime) -> None:
    """A status callback moved the text on before Twilio's answer was written: keep its SID."""
    Message.objects.filter(pk=message_id, twilio_sid__isnull=True).update(
        twilio_sid=twilio_sid, updated_at=now
    )


def message_sms_requeue(*, message_id: int) -> bool:
    """sending -> queued: Twilio certainly did not take it (429, 5xx, no connection)."""
    return bool(
        Message.objects.filter(pk=message_id, status=Status.SENDING).update(
            status=Status.QUEUED, updated_at=timezone.now()
        )
    )


def message_sms_flag_review(*, message_id: int, detail: str) -> None:
    """Twilio may or may not have the text (timeout after the request left): it stays in
    `sending`, visible in the report as NEEDS_REVIEW, until a lookup at Twilio settles it."""
    logger.warning("Message %s: Twilio's answer was lost (%s); reconciling", message_id, detail)
    Message.objects.filter(pk=message_id, status=Status.SENDING).update(
        failure_reason=FailureReason.NEEDS_REVIEW, updated_at=timezone.now()
    )


def message_sms_failed(
    *,
    message_id: int,
    reason: str,
    created_at: datetime,
    error_code: int | None = None,
) -> Message | None:
    """The text will not go by SMS: it fails with `reason`, gives back its unit of the monthly
    limit (Twilio never accepted it), and falls back to email once.

    Returns the email fallback, or None when the text had already left `queued`/`sending`.
    """
    with transaction.atomic():
        failed = Message.objects.filter(
            pk=message_id, status__in=[Status.QUEUED, Status.SENDING]
        ).update(
            status=Status.FAILED,
            failure_reason=reason,
            error_code=error_code,
            updated_at=timezone.now(),
        )
        if not failed:
            return None
        pool.monthly_usage_release(at=created_at)
        # In the same transaction: a failed text always has its (queued) email.
        return message_email_fallback(message_id=message_id, reason=reason)


def message_sms_retry_schedule(*, message_id: int, reason: str) -> Message | None:
    """Schedule another attempt of a text a status callback reported failed with a "retry later"
    code (T3: 30003, 30008): a new queued text, `retry_of` the failed one, due after the next
    delay of `SMS_UNREACHABLE_RETRY_SECONDS` (`not_before`; the sweep enqueues it when due; it is
    routed again at send time). It takes a unit of the monthly limit like any text.

    Returns None when no attempt is left or the month's limit is reached: the caller falls back
    to email. Call it inside the caller's transaction, once per failed attempt (a unique
    constraint on `retry_of` guards against races).
    """
    text = Message.objects.get(pk=message_id)
    delays = tuple(settings.SMS_UNREACHABLE_RETRY_SECONDS)
    earlier = 0
    ancestor_id = text.retry_of_id
    while ancestor_id is not None:
        earlier += 1
        ancestor_id = (
            Message.objects.filter(pk=ancestor_id).values_list("retry_of_id", flat=True).first()
        )
    if earlier >= len(delays):
        return None
    with transaction.atomic():
        retry = Message.objects.create(
            direction=Direction.OUTBOUND,
            sender_id=text.sender_id,
            recipient_id=text.recipient_id,
            channel=Channel.SMS,
            destination=text.destination,
            from_number=text.from_number,
            phone_id=text.phone_id,
            body=text.body,
            status=Status.QUEUED,
            failure_reason=reason,
            segments=text.segments,
            encoding=text.encoding,
            retry_of=text,
            cohort_id=text.cohort_id,
            not_before=timezone.now() + timedelta(seconds=delays[earlier]),
        )
        inbox_services.conversations_record([retry])
        taken = pool.monthly_usage_take(count=1, at=retry.created_at)
        if not taken.granted:
            transaction.set_rollback(True)
            return None
        alerts.usage_alerts_check(taken)
    return retry


def message_sms_retry_due(*, message_id: int) -> bool:
    """A scheduled retry whose time has come: clears `not_before` (True when this call did, so
    exactly one sweep enqueues it; a lost task is then re-queued like any queued text)."""
    now = timezone.now()
    return bool(
        Message.objects.filter(pk=message_id, status=Status.QUEUED, not_before__lte=now).update(
            not_before=None, updated_at=now
        )
    )
