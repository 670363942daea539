"""Writes of the inbox: opening a conversation marks its inbound texts read (V3)."""

from __future__ import annotations

from django.utils import timezone

from messaging.conversation import Owner, inbound_of
from messaging.models import Message


def conversation_mark_read(*, owner: Owner, person_id: int) -> int:
    """Mark `person_id`'s unread texts in `owner`'s conversation read; returns how many.

    Called when the owner opens the conversation (an administrator for the shared inbox); an
    administrator reading somebody else's inbox does not call it. Idempotent: one UPDATE of the
    unread texts only (the attributed_to/read_at index), so a second call changes nothing.
    """
    return Message.objects.filter(
        inbound_of(owner), sender_id=person_id, read_at__isnull=True
    ).update(read_at=timezone.now())
