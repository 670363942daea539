"""Inbound texts (SPEC T4-T8): recorded once per MessageSid, keywords, replies, unknown senders.

Definitions the spec leaves open (docs/DECISIONS.md):

- A keyword is the whole body, trimmed, in any case ("STOP please" is an ordinary text), or
  Twilio's `OptOutType` (Advanced Opt-Out, which also covers custom keywords).
- A text is a *reply* when an SMS (not failed) went to the texter from the number it was sent to
  (the staff member's system number) within `reply_window_days` (default 30). Otherwise it is
  *student-initiated*.
- "That phone" is every active, non-system phone record with the texter's number: a number that
  says STOP or START says it for every record of it (Twilio blocks the number, not the record).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from messaging import outbox, policy, segments
from messaging.models import AUTOMATIC_ANSWER_KEYWORD, Channel, Direction, Message, Status
from people import phone_numbers
from people import services as people_services
from people.models import SYSTEM_PHONE_TYPE_SRC, Person, PersonPhone, SmsStatus, StatusCause
from sms_admin import selectors as sms_admin_selectors
from sms_admin import services as sms_admin_services
from sms_admin.models import SmsConfiguration

logger = logging.getLogger(__name__)


class Keyword:
    STOP = "stop"
    START = "start"
    HELP = "help"


OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
OPT_OUT_TYPES = {"STOP": Keyword.STOP, "START": Keyword.START, "HELP": Keyword.HELP}


def keyword_classify(*, body: str, opt_out_type: str = "") -> str:
    """The keyword class of a text ("stop", "start", "help") or "" for an ordinary text."""
    from_twilio = OPT_OUT_TYPES.get(opt_out_type.strip().upper())
    if from_twilio:
        return from_twilio
    word = body.strip().upper()
    if word in OPT_OUT_KEYWORDS:
        return Keyword.STOP
    if word in OPT_IN_KEYWORDS:
        return Keyword.START
    if word in HELP_KEYWORDS:
        return Keyword.HELP
    return ""


@dataclass(frozen=True)
class InboundResult:
    message: Message
    # False when this MessageSid was already recorded (Twilio retried): nothing was done again.
    created: bool
    # What to answer in TwiML, if anything (the help text for HELP/INFO).
    reply: str | None


def _normalized(number: str) -> str | None:
    try:
        return phone_numbers.phone_number_normalize(number)
    except ValidationError:
        return None


def _phones_with_number(number: str | None) -> list[PersonPhone]:
    if number is None:
        return []
    return list(
        PersonPhone.objects.filter(number=number, deleted=False)
        .exclude(phone_type_src_system_id=SYSTEM_PHONE_TYPE_SRC)
        .select_related("person")
        .order_by(F("verified_at").desc(nulls_last=True), "id")
    )


def _staff_for(number: str | None) -> Person | None:
    if number is None:
        return None
    assignment = (
        sms_admin_selectors.sender_assignments_active()
        .filter(sender_number__number=number)
        .select_related("person")
        .first()
    )
    return assignment.person if assignment else None


def _recent_texts_from(*, staff: Person | None, number: str | None, window_days: int) -> Q | None:
    """Outbound SMS sent from this conversation's side within the reply window."""
    by_sender = Q()
    if staff is not None:
        by_sender |= Q(sender=staff)
    if number is not None:
        by_sender |= Q(from_number=number)
    if not by_sender:
        return None
    cutoff = timezone.now() - timedelta(days=window_days)
    return (
        by_sender
        & Q(direction=Direction.OUTBOUND, channel=Channel.SMS, created_at__gte=cutoff)
        & ~Q(status__in=[Status.FAILED, Status.UNDELIVERED])
    )


def _conversation_phone(
    phones: list[PersonPhone], recent: Q | None
) -> tuple[PersonPhone | None, bool]:
    """The phone (and so the person) this text comes from, and whether it is a reply.

    With several people on one number, the one this side texted most recently wins.
    """
    if not phones:
        return None, False
    if recent is not None:
        last = (
            Message.objects.filter(recent, recipient_id__in={p.person_id for p in phones})
            .order_by("-created_at", "-id")
            .values_list("recipient_id", flat=True)
            .first()
        )
        if last is not None:
            return next(p for p in phones if p.person_id == last), True
    return phones[0], False


def _statuses_apply(
    *, keyword: str, is_reply: bool, phones: list[PersonPhone], config: SmsConfiguration
) -> None:
    if keyword == Keyword.STOP:
        policy.opt_out_apply(phones=phones, scope=config.opt_out_scope, cause=StatusCause.OPT_OUT)
    elif keyword == Keyword.START:
        for phone in phones:
            people_services.phone_status_set(
                phone=phone, status=SmsStatus.ENABLED, cause=StatusCause.OPT_IN
            )
    elif not keyword and not is_reply:
        for phone in phones:
            if phone.sms_status != SmsStatus.DISABLED:
                people_services.phone_status_set(
                    phone=phone, status=SmsStatus.ENABLED, cause=StatusCause.STUDENT_INITIATED
                )


def _reply_for(keyword: str, config: SmsConfiguration, *, opt_out_type: str) -> str | None:
    """The help text for HELP/INFO (T6), unless Twilio's Advanced Opt-Out answers it: configured
    so, or shown by Twilio itself adding OptOutType to the webhook (never answer twice)."""
    twilio_answers = config.advanced_opt_out or bool(opt_out_type)
    if keyword == Keyword.HELP and not twilio_answers and config.help_text.strip():
        return config.help_text
    return None


def message_inbound_receive(
    *,
    message_sid: str,
    from_number: str,
    to_number: str,
    body: str,
    opt_out_type: str = "",
) -> InboundResult:
    """Record an inbound text once and apply T4-T8.

    A MessageSid already recorded (Twilio's retry, or two deliveries racing) returns the stored
    message and changes nothing: the unique index on `twilio_sid` decides, and the statuses
    change in the same transaction as the insert. The reply notification (C5), for ordinary
    texts to a staff member's number, is written to the outbox in that transaction too and
    sent by a worker after commit.
    """
    config = sms_admin_services.configuration_get()
    existing = Message.objects.filter(twilio_sid=message_sid).first()
    if existing is not None:
        return InboundResult(
            existing,
            created=False,
            reply=_reply_for(existing.keyword, config, opt_out_type=opt_out_type),
        )
    sender_number = _normalized(from_number)
    system_number = _normalized(to_number)
    keyword = keyword_classify(body=body, opt_out_type=opt_out_type)
    staff = _staff_for(system_number)
    phones = _phones_with_number(sender_number)
    recent = _recent_texts_from(
        staff=staff, number=system_number, window_days=config.reply_window_days
    )
    phone, is_reply = _conversation_phone(phones, recent)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                direction=Direction.INBOUND,
                channel=Channel.SMS,
                status=Status.RECEIVED,
                sender=phone.person if phone else None,
                recipient=staff,
                phone=phone,
                from_number=sender_number or from_number,
                destination=system_number or to_number,
                body=body,
                twilio_sid=message_sid,
                keyword=keyword,
                is_reply=is_reply,
            )
            _statuses_apply(keyword=keyword, is_reply=is_reply, phones=phones, config=config)
            reply = _reply_for(keyword, config, opt_out_type=opt_out_type)
            if reply is not None:
                _answer_record(message, reply)
            if staff is not None and not keyword:
                # In this transaction, sent by a worker after commit: no SMTP inside Twilio's
                # webhook request, and nothing lost if the broker is down (the sweep sends it).
                outbox.reply_notification_add(message=message)
    except IntegrityError:
        existing = Message.objects.filter(twilio_sid=message_sid).first()
        if existing is None:
            raise
        return InboundResult(
            existing,
            created=False,
            reply=_reply_for(existing.keyword, config, opt_out_type=opt_out_type),
        )
    if phone is None:
        logger.info("Inbound text %s from unknown number %s recorded", message_sid, from_number)
    return InboundResult(message, created=True, reply=reply)


def _answer_record(question: Message, answer: str) -> Message:
    """The help text answered in the webhook's TwiML (T6), recorded for the Message Report and
    the person's page: outbound, from the number the student wrote to, no sender (the office
    answers, not the staff member holding the number), `sent` (Twilio sends a TwiML answer
    itself and reports no status for it), keyword `help`. It is not counted against the monthly
    limit: answering HELP is required whatever the month's usage. Recorded once per inbound
    message; a retried webhook is answered again but Twilio delivers only one answer."""
    info = segments.segments_count(answer)
    return Message.objects.create(
        direction=Direction.OUTBOUND,
        channel=Channel.SMS,
        status=Status.SENT,
        sent_at=timezone.now(),
        sender=None,
        recipient=question.sender,
        phone=question.phone,
        destination=question.from_number,
        from_number=question.destination[: Message._meta.get_field("from_number").max_length],
        body=answer,
        keyword=AUTOMATIC_ANSWER_KEYWORD,
        segments=info.segments,
        encoding=info.encoding,
    )
