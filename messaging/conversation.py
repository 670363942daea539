"""Reads for the person page and the inbox: what a conversation holds (V1), the conversation
between a staff member (or the shared inbox) and a person, and a student's success team with
their system numbers (S7, P4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from messaging.models import AUTOMATIC_ANSWER_KEYWORD, Attribution, Direction, Message
from people.models import SYSTEM_PHONE_TYPE_SRC, Person, PersonPhone


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
    """Staff who texted `person`, each with their active system numbers (two queries).

    The product has no success-team model, so the team shown on a person page is the staff who
    sent this person a message; their system numbers carry the "Text Msg Only" badge (P4).
    """
    system_phones = PersonPhone.objects.filter(
        deleted=False, phone_type_src_system_id=SYSTEM_PHONE_TYPE_SRC
    ).order_by("id")
    senders = Message.objects.filter(
        recipient=person, direction=Direction.OUTBOUND, sender__isnull=False
    ).values("sender_id")
    return (
        Person.objects.filter(pk__in=senders)
        .exclude(pk=person.pk)
        .prefetch_related(Prefetch("phones", queryset=system_phones, to_attr="system_phones"))
        .order_by("last_name", "first_name", "id")
    )
