"""Building conversations for the inbox tests: messages with a chosen time, attributed directly
(the attribution rule is tested on its own)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from messaging.models import Attribution, Channel, Direction, Message, Status
from people.models import Person


def at(minutes_ago: float) -> datetime:
    return timezone.now() - timedelta(minutes=minutes_ago)


def _stamp(message: Message, when: datetime | None) -> Message:
    if when is not None:
        Message.objects.filter(pk=message.pk).update(created_at=when)
        message.created_at = when
    return message


def sent(
    staff: Person,
    person: Person,
    body: str = "Can we meet?",
    *,
    when: datetime | None = None,
    **fields: Any,
) -> Message:
    values: dict[str, Any] = {
        "direction": Direction.OUTBOUND,
        "sender": staff,
        "recipient": person,
        "channel": Channel.SMS,
        "destination": "+12025550111",
        "from_number": "+12015550100",
        "body": body,
        "status": Status.DELIVERED,
    }
    values.update(fields)
    return _stamp(Message.objects.create(**values), when)


def received(
    person: Person | None,
    staff: Person | None,
    body: str = "Yes, Tuesday works.",
    *,
    when: datetime | None = None,
    **fields: Any,
) -> Message:
    """An inbound text from `person` attributed to `staff` (None: the shared inbox)."""
    values: dict[str, Any] = {
        "direction": Direction.INBOUND,
        "sender": person,
        "recipient": staff,
        "attributed_to": staff,
        "attribution": Attribution.REPLY if staff is not None else Attribution.SHARED,
        "channel": Channel.SMS,
        "destination": "+12015550100",
        "from_number": "+12025550111",
        "body": body,
        "status": Status.RECEIVED,
    }
    values.update(fields)
    return _stamp(Message.objects.create(**values), when)
