"""Inbound texts (T4-T8): recorded once per MessageSid, keywords, replies, unknown senders.

Definitions the rules leave open (docs/DECISIONS.md):

- A keyword is the whole body, trimmed, in any case ("STOP please" is an ordinary text), or
  Twilio's `OptOutType` (Advanced Opt-Out, which also covers custom keywords).
- Whose conversation a text joins is decided once, when it is recorded, by the pure rule in
  messaging.attribution (V2), and stored on it (`attributed_to`, `attribution`; `recipient` is
  the same staff member, or None in the shared inbox). It is a *reply* when a staff member texted
  the texter from the number it was sent to within `reply_window_days` (default 30); otherwise it
  is *student-initiated* (T7) and belongs to the number's holder, or to the shared inbox.
- "That phone" is every active, non-system phone record with the texter's number: a number that
  says STOP or START says it for every record of it (Twilio blocks the number, not the record).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from messaging import attribution, outbox, policy, segments, selectors
from messaging.models import AUTOMATIC_ANSWER_KEYWORD, Channel, Direction, Message, Status
from people import phone_numbers
from people import services as people_services
from people.models import SYSTEM_PHONE_TYPE_SRC, PersonPhone, SmsStatus, StatusCause
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


def _conversation_phone(
    phones: list[PersonPhone], last_text: attribution.TextFacts | None
) -> PersonPhone | None:
    """The phone (and so the person) this text comes from.

    With several people on one number, the one the number last texted wins (the person the
    reply answers); otherwise the phone with the latest verified date.
    """
    if not phones:
        return None
    if last_text is not None:
        for phone in phones:
            if phone.person_id == last_text.recipient_id:
                return phone
    return phones[0]


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
    num_segments: int | None = None,
) -> InboundResult:
    """Record an inbound text once and apply T4-T8.

    `num_segments` is Twilio's count (NumSegments); without it the segments are counted from
    the body, as for outbound texts. The encoding is the body's.

    A MessageSid already recorded (Twilio's retry, or two deliveries racing) returns the stored
    message and changes nothing: the unique index on `twilio_sid` decides, and the statuses
    change in the same transaction as the insert, as does the attribution (V2). The reply
    notification (C5), for ordinary texts, is written to the outbox in that transaction too and
    sent by a worker after commit: to the staff member the text is attributed to, or to the
    administrators when it lands in the shared inbox.
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
    phones = _phones_with_number(sender_number)
    info = segments.segments_count(body)
    try:
        with transaction.atomic():
            facts = selectors.inbound_attribution_facts(
                from_number=sender_number or from_number,
                to_number=system_number or to_number,
                at=timezone.now(),
                reply_window_days=config.reply_window_days,
            )
            decision = attribution.attribute(facts)
            is_reply = decision.is_reply
            phone = _conversation_phone(phones, facts.last_text)
            message = Message.objects.create(
                direction=Direction.INBOUND,
                channel=Channel.SMS,
                status=Status.RECEIVED,
                sender=phone.person if phone else None,
                recipient_id=decision.staff_id,
                attributed_to_id=decision.staff_id,
                attribution=decision.attribution,
                phone=phone,
                from_number=sender_number or from_number,
                destination=system_number or to_number,
                body=body,
                twilio_sid=message_sid,
                keyword=keyword,
                is_reply=is_reply,
                segments=num_segments or info.segments,
                encoding=info.encoding,
            )
            _statuses_apply(keyword=keyword, is_reply=is_reply, phones=phones, config=config)
            reply = _reply_for(keyword, config, opt_out_type=opt_out_type)
            if reply is not None:
                _answer_record(message, reply)
            # The attributed staff member, or the administrators for the shared inbox; in this
            # transaction, sent by a worker after commit: no SMTP inside Twilio's webhook
            # request, and nothing lost if the broker is down (the sweep sends it).
            if not keyword:
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
    logger.info("Inbound text %s: %s", message_sid, decision.explanation)
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
