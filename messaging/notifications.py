"""The emails staff get from the application, built here and sent through messaging.outbox.

The reply notification (C5) tells the staff member that a text to them arrived. It is rendered
from the Email Notifications templates of the SMS configuration, with only the documented
placeholders (sms_admin.notifications.PLACEHOLDERS). Templates are validated when they are saved;
should a stored one still fail to render (edited outside the application), the default template
is used and the problem logged, so the staff member is still told. The administrators' alert
tells of a sender-side Twilio error (T3).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
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


def reply_notification_email(*, message_id: int) -> EmailMessage | None:
    """The email telling the staff member an inbound text arrived, or None when there is nobody
    to tell: keyword texts (STOP, START, HELP), texts to no staff member, a staff member without
    an email address, a message deleted since."""
    message = Message.objects.select_related("sender", "recipient").filter(pk=message_id).first()
    staff = message.recipient if message is not None else None
    if message is None or message.keyword or staff is None or not staff.email:
        return None
    config = sms_admin_services.configuration_get()
    values = reply_notification_values(message)
    subject = _render(config.reply_notification_subject, DEFAULT_REPLY_SUBJECT, values)
    # A header cannot hold line breaks (the reply text may have some).
    subject = " ".join(subject.split())
    body = _render(config.reply_notification_body, DEFAULT_REPLY_BODY, values)
    return EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[staff.email]
    )


def admins_alert_email(*, code: int | None, reason: str) -> EmailMessage | None:
    """The email telling every administrator with an address about a sender-side Twilio error
    (T3), or None when no administrator has an address."""
    recipients = list(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return None
    subject = f"Texting: Twilio error {code} ({reason}) needs an administrator"
    body = (
        f"Twilio refused or failed a text with error {code} ({reason}). This error is on the "
        "institution's side (sender registration, geographic permissions or carrier "
        "filtering), so the students' phones were left as they are and the texts went by email.\n\n"
        "Check the messaging service in the Twilio console. Further errors with this code are "
        "not emailed for an hour; the Message Report lists every affected text."
    )
    return EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=recipients
    )
