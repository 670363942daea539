"""Reads for the person page and the inbox: what a conversation holds (V1), the conversation
between a staff member (or the shared inbox) and a person, and a student's success team with
the numbers they text from (S7, P4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from messaging.models import AUTOMATIC_ANSWER_KEYWORD, Attribution, Direction, Message
from people.models import Person
from sms_admin import selectors as sms_admin_selectors


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose conversations: a staff member (their person id), or the office's shared inbox
    (`staff_id` None: inbound texts nobody could be given, V2)."""

    staff_id: int | None

    @property
    def shared(self) -> bool:
        return self.staff_id is None


SHARED = Owner(None)


def inbound_of(owner: Owner) -> Q:
    """The inbound texts that belong to `owner`'s conversations (attributed to them, V2)."""
    if owner.staff_id is None:
        return Q(
            direction=Direction.INBOUND,
            attributed_to__isnull=True,
            attribution=Attribution.SHARED,
        )
    return Q(direction=Direction.INBOUND, attributed_to_id=owner.staff_id)


def outbound_of(owner: Owner) -> Q:
    """The texts and emails `owner` sent (the shared inbox sends none: nothing matches)."""
    if owner.staff_id is None:
        return Q(pk__in=[])
    return Q(direction=Direction.OUTBOUND, sender_id=owner.staff_id)


def conversation_key(message: Message) -> tuple[Owner, int] | None:
    """The conversation (owner, person id) whose last message, unread count and "needs reply"
    `message` counts in, or None (an automatic answer, a text from a number on no record): the
    one message's answer to `written_between`, for the writes that keep the inbox's summary."""
    if message.direction == Direction.OUTBOUND:
        if message.sender_id is None or message.recipient_id is None:
            return None
        return Owner(message.sender_id), message.recipient_id
    if message.sender_id is None:
        return None
    if message.attributed_to_id is not None:
        return Owner(message.attributed_to_id), message.sender_id
    if message.attribution == Attribution.SHARED:
        return SHARED, message.sender_id
    return None


def automatic_answers_to(person: Any) -> Q:
    """The office's automatic answers to `person` (HELP, T6): in every conversation with them."""
    return Q(
        sender__isnull=True,
        recipient=person,
        direction=Direction.OUTBOUND,
        keyword=AUTOMATIC_ANSWER_KEYWORD,
    )


def written_between(owner: Owner, person: Any) -> Q:
    """What `owner` and `person` wrote each other (V1 without the automatic answers): the
    inbox's last message, unread count and "needs reply" are read from these. `person` is a
    Person, an id or an OuterRef."""
    return (outbound_of(owner) & Q(recipient=person)) | (inbound_of(owner) & Q(sender=person))


def messages_between(owner: Owner, person: Any) -> Q:
    """Everything a conversation holds (V1): both sides' texts and emails, and the automatic
    answers to the person."""
    return written_between(owner, person) | automatic_answers_to(person)


def conversation_of(owner: Owner, person: Person, *, limit: int = 100) -> list[Message]:
    """`owner`'s conversation with `person`, oldest first (the latest `limit`)."""
    rows = (
        Message.objects.filter(messages_between(owner, person))
        .select_related("sender", "recipient", "replaces")
        .order_by("-created_at", "-id")[:limit]
    )
    return list(reversed(rows))


def conversation(*, staff: Person | None, person: Person, limit: int = 100) -> list[Message]:
    """Messages between `staff` and `person`, oldest first (the latest `limit`): the staff
    member's texts and emails to the person, the person's texts attributed to the staff member
    (not merely sent to the number they hold now, V2) and the office's automatic answers.

    Email fallbacks come with the text they replace (`replaces`). With no staff person (an
    administrator without a person record) every message to or from `person` is listed.
    """
    if staff is not None:
        return conversation_of(Owner(staff.pk), person, limit=limit)
    rows = (
        Message.objects.filter(Q(recipient=person) | Q(sender=person))
        .select_related("sender", "recipient", "replaces")
        .order_by("-created_at", "-id")[:limit]
    )
    return list(reversed(rows))


def success_team(person: Person) -> QuerySet[Person]:
    """Staff who texted `person` and hold a pool number now, each with that number as
    `text_number` (one query).

    The product has no success-team model, so the team shown on a person page is the staff who
    sent this person a message. Only an active assignment counts: a released (deleted) one is a
    number that may now be somebody else's, so its former holder is not listed with it. The
    number carries the "Text Msg Only" badge (P4).
    """
    senders = Message.objects.filter(
        recipient=person, direction=Direction.OUTBOUND, sender__isnull=False
    ).values("sender_id")
    held = sms_admin_selectors.sender_assignments_active().filter(person_id=OuterRef("pk"))
    return (
        Person.objects.filter(pk__in=senders)
        .exclude(pk=person.pk)
        .annotate(text_number=Subquery(held.values("sender_number__number")[:1]))
        .filter(text_number__isnull=False)
        .order_by("last_name", "first_name", "id")
    )
