"""The reclaim report (A5): sender numbers whose holder should probably give them back.

A held number is listed when its holder is a student, holds no permitted role (C4), has no login
or an inactive one, or has sent nothing (no text, no email instead) for `idle_days` days and
has held the number at least that long. Each row says which of these apply; the release goes
through the Phone Number Usage grid's delete (sms_admin), with its confirmation.

Query budget: one query per page, plus its count (the reasons are computed in SQL with EXISTS
and the last message with a subquery on the sender's index).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from messaging.models import Direction, Message
from people.models import Person
from sms_admin import selectors as sms_admin_selectors
from sms_admin.models import SenderAssignment, SmsConfiguration

DEFAULT_IDLE_DAYS = 90
MAX_IDLE_DAYS = 3650


class IdleDaysError(ValueError):
    """An `idle_days` value that is not a number of days the report can use."""


def idle_days_parse(value: str | None) -> int:
    """`idle_days` from a query parameter; blank means the default (90).

    :raises IdleDaysError: for anything but a whole number from 1 to 3650.
    """
    text = (value or "").strip()
    if not text:
        return DEFAULT_IDLE_DAYS
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_IDLE_DAYS:
        raise IdleDaysError(
            f"'{text[:20]}' is not a number of days: write a whole number from 1 to "
            f"{MAX_IDLE_DAYS}."
        )
    return int(text)


def reclaim_candidates(
    *, idle_days: int, now: datetime | None = None
) -> QuerySet[SenderAssignment]:
    """Active assignments with at least one reason to reclaim the number, oldest first, each
    annotated with `held_by_student`, `holds_permitted_role`, `last_sent_at` and `idle`."""
    cutoff = (now or timezone.now()) - timedelta(days=idle_days)
    permitted = Person.roles.through.objects.filter(
        person_id=OuterRef("person_id"),
        role_id__in=SmsConfiguration.permitted_roles.through.objects.values("role_id"),
    )
    last_sent = (
        Message.objects.filter(sender_id=OuterRef("person_id"), direction=Direction.OUTBOUND)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    idle = Q(assigned_at__lt=cutoff) & (Q(last_sent_at__isnull=True) | Q(last_sent_at__lt=cutoff))
    return (
        sms_admin_selectors.sender_assignments_active()
        .select_related("person__user", "sender_number")
        .annotate(
            held_by_student=sms_admin_selectors.held_by_student(),
            holds_permitted_role=Exists(permitted),
            last_sent_at=Subquery(last_sent),
        )
        .annotate(idle=idle)
        .filter(
            Q(held_by_student=True)
            | Q(holds_permitted_role=False)
            | Q(person__user__isnull=True)
            | Q(person__user__is_active=False)
            | Q(idle=True)
        )
        .order_by("assigned_at", "id")
    )


@dataclass(frozen=True)
class ReclaimRow:
    assignment: SenderAssignment
    reasons: tuple[str, ...]
    last_sent_at: datetime | None


def reclaim_reasons(assignment: SenderAssignment, *, idle_days: int) -> tuple[str, ...]:
    """The reasons, in words, of a row of `reclaim_candidates`."""
    reasons = []
    if getattr(assignment, "held_by_student", False):
        reasons.append("Is a student (students may not hold a number)")
    if not getattr(assignment, "holds_permitted_role", True):
        reasons.append("Holds no role that may send texts")
    user = assignment.person.user
    if user is None:
        reasons.append("Has no login")
    elif not user.is_active:
        reasons.append("Login is inactive")
    if getattr(assignment, "idle", False):
        last: datetime | None = getattr(assignment, "last_sent_at", None)
        reasons.append(
            f"Has sent nothing for {idle_days} days or more"
            if last is not None
            else f"Has sent nothing since the number was assigned ({idle_days} days or more)"
        )
    return tuple(reasons)


def reclaim_rows(assignments: list[SenderAssignment], *, idle_days: int) -> list[ReclaimRow]:
    return [
        ReclaimRow(
            assignment=assignment,
            reasons=reclaim_reasons(assignment, idle_days=idle_days),
            last_sent_at=getattr(assignment, "last_sent_at", None),
        )
        for assignment in assignments
    ]
