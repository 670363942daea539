"""The daily digest of unanswered replies (V5): each staff member is emailed the conversations
that have waited for their answer longer than `unanswered_reply_hours` business hours
(messaging.business_hours; 0 turns it off).

At most one digest per staff member per day, however many beat processes run the job or however
often it is retried: a row (staff, day) is inserted, under a unique constraint, before the
email is sent; whoever fails to insert it sends nothing. A mail server failing after the insert
loses that day's digest (logged) rather than risking two.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging import inbox
from messaging.business_hours import WORKDAYS, business_hours
from messaging.conversation import Owner
from messaging.models import UnansweredDigest
from people.models import Person
from sms_admin import services as sms_admin_services

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Waiting:
    conversation: inbox.Conversation
    business_hours: float


def waiting_for(staff: Person, *, now: datetime, zone: ZoneInfo, hours: int) -> list[Waiting]:
    """`staff`'s conversations waiting longer than `hours` business hours, longest first."""
    found = []
    for row in inbox.all_conversations(Owner(staff.pk), inbox.Filter.NEEDS_REPLY):
        if row.waiting_since is None:
            continue
        waited = business_hours(row.waiting_since, now, zone)
        if waited > hours:
            found.append(Waiting(row, waited))
    return sorted(found, key=lambda w: -w.business_hours)


def _email(staff: Person, waiting: list[Waiting], zone: ZoneInfo, hours: int) -> EmailMessage:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    count = len(waiting)
    lines = [
        f"Hello {staff.full_name},",
        "",
        f"{count} conversation{'s' if count != 1 else ''} "
        f"{'have' if count != 1 else 'has'} waited for your answer longer than {hours} business "
        "hours (Monday to Friday, 08:00 to 17:00):",
        "",
    ]
    for item in waiting:
        row = item.conversation
        since = timezone.localtime(row.waiting_since, zone).strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"- {row.person_name}: {int(item.business_hours)} business hours, since {since}"
            f" ({base}/people/{row.person_id}/#conversation)"
        )
    lines += ["", f"Your inbox: {base}/inbox/?show=needs_reply"]
    return EmailMessage(
        subject=f"{count} conversation{'s' if count != 1 else ''} waiting for your answer",
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[staff.email],
    )


def unanswered_digests_send(*, now: datetime | None = None) -> int:
    """Send today's digests (business days only); returns how many were sent."""
    config = sms_admin_services.configuration_get()
    hours = config.unanswered_reply_hours
    if hours == 0:
        return 0
    now = now or timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    today = now.astimezone(zone).date()
    if today.weekday() not in WORKDAYS:
        return 0
    sent = 0
    for staff in inbox.staff_with_inbound():
        if not staff.email:
            continue
        waiting = waiting_for(staff, now=now, zone=zone, hours=hours)
        if not waiting:
            continue
        try:
            with transaction.atomic():
                UnansweredDigest.objects.create(staff=staff, day=today, conversations=len(waiting))
        except IntegrityError:
            continue  # today's digest was already sent (another beat process, a retry)
        try:
            _email(staff, waiting, zone, hours).send()
        except Exception:
            logger.exception("Unanswered-replies digest for person %s could not be sent", staff.pk)
            continue
        sent += 1
    return sent
