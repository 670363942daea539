"""Every write to messages: sending (S1-S9) and the email fallback (R5, S6, T3)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging.models import Channel, Direction, FailureReason, Message, Status

logger = logging.getLogger(__name__)


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
    """Send the text `message_id` by email instead, once, recorded as its own message.

    The fallback is linked to the text it replaces (`replaces`) and carries `reason`. A second
    call for the same text returns the existing fallback and sends nothing (a unique constraint
    guards against races). With no email address the fallback is recorded as undeliverable
    (channel none, reason NO_EMAIL).
    """
    text = Message.objects.select_related("sender", "recipient").get(pk=message_id)
    existing = Message.objects.filter(replaces=text).first()
    if existing is not None:
        return existing
    email = text.recipient.email if text.recipient else ""
    try:
        with transaction.atomic():
            fallback = Message.objects.create(
                direction=Direction.OUTBOUND,
                sender=text.sender,
                recipient=text.recipient,
                channel=Channel.EMAIL if email else Channel.NONE,
                destination=email,
                body=text.body,
                status=Status.SENDING if email else Status.FAILED,
                failure_reason=reason if email else FailureReason.NO_EMAIL,
                replaces=text,
            )
    except IntegrityError:
        return Message.objects.get(replaces=text)
    if not email:
        return fallback
    try:
        _fallback_email(text).send()
    except Exception:
        logger.exception("Email fallback for message %s could not be sent", text.pk)
        Message.objects.filter(pk=fallback.pk).update(status=Status.FAILED)
        fallback.status = Status.FAILED
        return fallback
    now = timezone.now()
    Message.objects.filter(pk=fallback.pk).update(status=Status.SENT, sent_at=now)
    fallback.status, fallback.sent_at = Status.SENT, now
    return fallback
