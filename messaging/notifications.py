"""The emails staff get from the application, built here and sent through messaging.outbox.

The reply notification (C5): the staff member a text is attributed to (V2) learns that it
arrived; a text that lands in the shared inbox is announced to the administrators instead. The
administrators' alert tells of a sender-side Twilio error (T3).

The staff member's email is rendered from the Email Notifications templates of the SMS
configuration, with only the documented placeholders (sms_admin.notifications.PLACEHOLDERS).
Templates are validated when they are saved; should a stored one still fail to render (edited
outside the application), the default template is used and the problem logged, so the staff
member is still told.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone

from messaging.models import Attribution, Message
from sms_admin import notifications as templates
from sms_admin import services as sms_admin_services
from sms_admin.models import DEFAULT_REPLY_BODY, DEFAULT_REPLY_SUBJECT

logger = logging.getLogger(__name__)


def reply_notification_values(message: Message) -> dict[str, str]:
    """The placeholder values for an inbound `message` (sender and attributed_to loaded)."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    student = message.sender
    if student is not None:
        student_name = student.full_name or message.from_number
        link = f"{base}/people/{student.pk}/#conversation"
    else:
        student_name = f"Unknown sender {message.from_number}"
        link = f"{base}/admin/messaging/message/{message.pk}/change/"
    return {
        "staff_name": message.attributed_to.full_name if message.attributed_to else "",
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
    """The email telling of the inbound text `message_id`: to the staff member it is attributed
    to (V2), or, when it landed in the shared inbox, to the administrators (blind copies: nobody
    sees the others' addresses). None when there is nobody to tell: keyword texts (STOP, START,
    HELP), a text not attributed (recorded before attribution existed), a staff member without an
    email address, a message deleted since. Never anybody else, such as the number's current
    holder when the text answers somebody else's text."""
    message = (
        Message.objects.select_related("sender", "attributed_to").filter(pk=message_id).first()
    )
    if message is None or message.keyword:
        return None
    if message.attribution == Attribution.SHARED:
        return _shared_inbox_email(message)
    staff = message.attributed_to
    if staff is None or not staff.email:
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


def administrators_emails() -> list[str]:
    """The addresses of the active administrators (staff users and superusers) that have one."""
    return list(
        get_user_model()
        .objects.filter(Q(is_staff=True) | Q(is_superuser=True), is_active=True)
        .exclude(email="")
        .order_by("id")
        .values_list("email", flat=True)
    )


def _shared_inbox_email(message: Message) -> EmailMessage | None:
    """Which text landed in the shared inbox and why, to every administrator. The configured
    template is the staff member's ("replied to your text"), so it is not used here."""
    recipients = administrators_emails()
    if not recipients:
        return None
    config = sms_admin_services.configuration_get()
    values = reply_notification_values(message)
    student = values["student_name"]
    subject = " ".join(f"{student} texted the shared inbox".split())
    body = (
        f"A text from {student} to {message.destination} landed in the shared inbox: nobody "
        f"texted this phone from that number in the last {config.reply_window_days} days and "
        "nobody holds the number now, so no staff member was told.\n\n"
        f'"{values["reply_text"]}"\n\n'
        f"Received at {values['time']}. Read it here: {values['conversation_link']}\n"
    )
    return EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, bcc=recipients
    )


def admins_alert_email(*, code: int | None, reason: str) -> EmailMessage | None:
    """The email telling every administrator with an address about a sender-side Twilio error
    (T3), or None when no administrator has an address."""
    recipients = administrators_emails()
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
