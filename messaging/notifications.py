"""The reply-notification email (C5): the staff member a text is attributed to (V2) learns that
it arrived; a text that lands in the shared inbox is announced to the administrators instead.

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
from django.core.mail import EmailMessage, get_connection
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


def reply_notification_send(*, message_id: int) -> bool:
    """Email the staff member an inbound text is attributed to (V2), or, when it landed in the
    shared inbox, the administrators. Returns whether an email was sent.

    Sends nothing for keyword texts (STOP, START, HELP), a text not attributed (recorded before
    attribution existed and not yet attributed), or a staff member without an email address;
    never to anybody else, such as the number's current holder when the text is a reply to
    somebody else's text. A failing mail server is logged, never raised: the text is already
    recorded and visible in the conversation.
    """
    message = Message.objects.select_related("sender", "attributed_to").get(pk=message_id)
    if message.keyword:
        return False
    if message.attribution == Attribution.SHARED:
        return _shared_inbox_notify(message)
    staff = message.attributed_to
    if staff is None or not staff.email:
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


def administrators_emails() -> list[str]:
    """The addresses of the active administrators (staff users and superusers) that have one."""
    return list(
        get_user_model()
        .objects.filter(Q(is_staff=True) | Q(is_superuser=True), is_active=True)
        .exclude(email="")
        .order_by("id")
        .values_list("email", flat=True)
    )


def _shared_inbox_notify(message: Message) -> bool:
    """One email per administrator (nobody sees the others' addresses), in the same words for
    each: which text landed in the shared inbox and why. The configured template is the staff
    member's ("replied to your text"), so it is not used here."""
    recipients = administrators_emails()
    if not recipients:
        return False
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
    emails = [
        EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
        for to in recipients
    ]
    try:
        sent = get_connection().send_messages(emails)
    except Exception:
        logger.exception("Shared-inbox notification for message %s could not be sent", message.pk)
        return False
    return bool(sent)
