"""The reply-notification email (C5): the staff member learns that a text to them arrived.

Rendered from the Email Notifications templates of the SMS configuration, with only the
documented placeholders (sms_admin.notifications.PLACEHOLDERS). Templates are validated when they
are saved; should a stored one still fail to render (edited outside the application), the
default template is used and the problem logged, so the staff member is still told.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from messaging.models import Message
from sms_admin import notifications as templates
from sms_admin import services as sms_admin_services
from sms_admin.models import DEFAULT_REPLY_BODY, DEFAULT_REPLY_SUBJECT

logger = logging.getLogger(__name__)


def reply_notification_values(message: Message) -> dict[str, str]:
    """The placeholder values for an inbound `message` (sender and recipient loaded)."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    student = message.sender
    if student is not None:
        student_name = student.full_name or message.from_number
        link = f"{base}/people/{student.pk}/#conversation"
    else:
        student_name = f"Unknown sender {message.from_number}"
        link = f"{base}/admin/messaging/message/{message.pk}/change/"
    return {
        "staff_name": message.recipient.full_name if message.recipient else "",
        "student_name": student_name,
        "reply_text": message.body,
        "time": timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M"),
        "conversation_link": link,
    }


def _render(template: str, default: str, values: dict[str, str]) -> str:
    try:
        return templates.template_render(template, values)
    except (ValueError, KeyError, IndexError, AttributeError):
        logger.exception("Stored reply-notification template does not render; using the default")
        return templates.template_render(default, values)


def reply_notification_send(*, message_id: int) -> bool:
    """Email the staff member an inbound text arrived for. Returns whether an email was sent.

    Sends nothing for keyword texts (STOP, START, HELP), texts to no staff member, or a staff
    member without an email address. A failing mail server is logged, never raised: the text is
    already recorded and visible in the conversation.
    """
    message = Message.objects.select_related("sender", "recipient").get(pk=message_id)
    staff = message.recipient
    if message.keyword or staff is None or not staff.email:
        return False
    config = sms_admin_services.configuration_get()
    values = reply_notification_values(message)
    subject = _render(config.reply_notification_subject, DEFAULT_REPLY_SUBJECT, values)
    # A header cannot hold line breaks (the reply text may have some).
    subject = " ".join(subject.split())
    body = _render(config.reply_notification_body, DEFAULT_REPLY_BODY, values)
    try:
        EmailMessage(
            subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[staff.email]
        ).send()
    except Exception:
        logger.exception("Reply notification for message %s could not be sent", message_id)
        return False
    return True
