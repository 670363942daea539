"""Reads for the person page: the conversation between a staff member and a person, and a
student's success team with their system numbers (S7, P4)."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from messaging.models import AUTOMATIC_ANSWER_KEYWORD, Direction, Message
from people.models import SYSTEM_PHONE_TYPE_SRC, Person, PersonPhone


def conversation(*, staff: Person | None, person: Person, limit: int = 100) -> list[Message]:
    """Messages between `staff` and `person`, oldest first (the latest `limit`).

    Email fallbacks come with the text they replace (`replaces`); the office's automatic answers
    to `person` (no sender) are included. With no staff person (an administrator without a
    person record) every message to or from `person` is listed.
    """
    if staff is None:
        between = Q(recipient=person) | Q(sender=person)
    else:
        between = (
            Q(sender=staff, recipient=person)
            | Q(sender=person, recipient=staff)
            # The office's automatic answers to this person (HELP, T6) belong to every view.
            | Q(
                sender__isnull=True,
                recipient=person,
                direction=Direction.OUTBOUND,
                keyword=AUTOMATIC_ANSWER_KEYWORD,
            )
        )
    rows = (
        Message.objects.filter(between)
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
