"""Reads for the person page: the conversation between a staff member and a person, and a
student's success team with the numbers they text from (S7, P4)."""

from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet, Subquery

from messaging.models import AUTOMATIC_ANSWER_KEYWORD, Direction, Message
from people.models import Person
from sms_admin import selectors as sms_admin_selectors


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
