"""The sender-number pool and the monthly SMS counter, safe under concurrency (S2, S3, S4, S8, S9).

Patterns (measured on PostgreSQL with racing threads, where the naive ones overshoot):

- Monthly counter: one row per (year, month) of the institution's time zone, created lazily, and
  a conditional `UPDATE ... SET sent = sent + 1 WHERE ... AND sent < limit` whose row count says
  whether the text may go. A text that Twilio never accepted gives its unit back
  (`monthly_usage_release`), so the counter counts accepted texts (messages, not segments).
- Pool: a free number is picked with `SELECT ... FOR UPDATE SKIP LOCKED`; the partial unique
  indexes on active assignments make a double assignment impossible in the database. The phone
  number limit (C7) is a count over all assignments, which row locks on free numbers cannot
  guard, so assignments are serialised on the configuration row (they happen once per staff
  member, so the lock costs nothing measurable).
- Resting numbers (Q1): the free numbers are taken in one order, never used first, then by the
  time of their last release, oldest first; so a number released less than
  `number_quarantine_days` ago comes last and is taken only when nothing else is free. That
  assignment is marked `assigned_while_resting` and logged as a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from people import phone_numbers
from people import services as people_services
from people.models import (
    SYSTEM_PHONE_TYPE_CODE,
    SYSTEM_PHONE_TYPE_SRC,
    SYSTEM_SRC_SUFFIX,
    Person,
    PersonPhone,
    PhoneType,
)
from people.services import Actor
from sms_admin import forecast, selectors
from sms_admin import services as sms_admin_services
from sms_admin.models import MonthlyUsage, SenderAssignment, SenderNumber, SmsConfiguration

logger = logging.getLogger(__name__)

# --- the monthly counter (C6, S3, S4) -------------------------------------------------------


def month_key(at: datetime | None = None) -> tuple[int, int]:
    """(year, month) of `at` (default now) in the institution's time zone (settings.TIME_ZONE)."""
    local = timezone.localtime(at or timezone.now(), ZoneInfo(settings.TIME_ZONE))
    return local.year, local.month


def _month_row_ensure(year: int, month: int) -> None:
    # ON CONFLICT DO NOTHING: racing first sends of a month create exactly one row, no error.
    MonthlyUsage.objects.bulk_create(
        [MonthlyUsage(year=year, month=month, sent=0)], ignore_conflicts=True
    )


class Reservation(NamedTuple):
    """Units taken from one month's counter: `granted` of those asked for, and the month's
    count right after them (`sent`, 0 when none was granted), which the usage alerts (A2)
    compare with the `limit` applied without reading the counter again."""

    year: int
    month: int
    granted: int
    sent: int
    limit: int


def monthly_usage_reserve(*, at: datetime | None = None, limit: int | None = None) -> bool:
    """Take one text from the month of `at`; False when the month's limit is reached (S4)."""
    return monthly_usage_take(count=1, at=at, limit=limit).granted == 1


_TAKE_ONE = (
    f"UPDATE {MonthlyUsage._meta.db_table} SET sent = sent + 1 "  # noqa: S608 (a table name)
    "WHERE year = %s AND month = %s AND sent < %s RETURNING sent"
)


def _month_take_one(year: int, month: int, limit: int) -> int | None:
    """The month's count after taking one text, or None when the limit is reached (or the
    month has no row yet)."""
    # Every send runs this: written as SQL, it skips the ORM's compilation (a third of its cost).
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_ONE, [year, month, limit])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def monthly_usage_reserve_many(
    *, count: int, at: datetime | None = None, limit: int | None = None
) -> int:
    """Take up to `count` texts from the month of `at` at once (bulk send); returns how many."""
    return monthly_usage_take(count=count, at=at, limit=limit).granted


def monthly_usage_take(
    *, count: int, at: datetime | None = None, limit: int | None = None
) -> Reservation:
    """Take up to `count` texts from the month of `at` (S4): one conditional UPDATE for a
    single text (the row is created on the month's first text), a row lock for several."""
    year, month = month_key(at)
    if limit is None:
        limit = sms_admin_services.configuration_get().sms_message_limit
    if count <= 0:
        return Reservation(year, month, 0, 0, limit)
    if count == 1:
        sent = _month_take_one(year, month, limit)
        if sent is None:
            _month_row_ensure(year, month)
            sent = _month_take_one(year, month, limit)
        if sent is None:
            return Reservation(year, month, 0, 0, limit)
        return Reservation(year, month, 1, sent, limit)
    _month_row_ensure(year, month)
    with transaction.atomic():
        row = MonthlyUsage.objects.select_for_update().get(year=year, month=month)
        granted = max(0, min(count, limit - row.sent))
        if granted:
            MonthlyUsage.objects.filter(pk=row.pk).update(sent=F("sent") + granted)
    return Reservation(year, month, granted, row.sent + granted if granted else 0, limit)


def monthly_usage_release(*, at: datetime, count: int = 1) -> None:
    """Give back `count` texts reserved in the month of `at` (Twilio never accepted them, or
    they were cancelled before leaving); the count never goes below zero."""
    year, month = month_key(at)
    MonthlyUsage.objects.filter(year=year, month=month, sent__gt=0).update(
        sent=Greatest(F("sent") - count, Value(0))
    )


@dataclass(frozen=True)
class MonthlyUsageSummary:
    month: str
    limit: int
    sent: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.sent)


def monthly_usage_summary(
    at: datetime | None = None, *, limit: int | None = None
) -> MonthlyUsageSummary:
    """This month's `sent / limit` (C6); pass `limit` when the configuration is already read."""
    year, month = month_key(at)
    row = MonthlyUsage.objects.filter(year=year, month=month).first()
    if limit is None:
        limit = sms_admin_services.configuration_get().sms_message_limit
    return MonthlyUsageSummary(
        month=f"{year:04d}-{month:02d}",
        limit=limit,
        sent=row.sent if row else 0,
    )


def monthly_usage_outlook(
    at: datetime | None = None, *, limit: int | None = None
) -> tuple[MonthlyUsageSummary, forecast.Forecast]:
    """This month's `sent / limit` and its forecast at the current pace (A1), for the moment
    `at` (default now) in the institution's time zone."""
    now = at or timezone.now()
    usage = monthly_usage_summary(now, limit=limit)
    start, end = forecast.month_bounds(*month_key(now), ZoneInfo(settings.TIME_ZONE))
    return usage, forecast.month_forecast(
        sent=usage.sent, now=now, month_start=start, month_end=end, limit=usage.limit
    )


# --- the sender-number pool (C7, S2, S3, S8, S9) --------------------------------------------


def sender_assignment_active(person_id: int) -> SenderAssignment | None:
    """The person's current sender number assignment, if any."""
    return (
        selectors.sender_assignments_active()
        .select_related("sender_number", "phone")
        .filter(person_id=person_id)
        .first()
    )


def sender_number_ensure(*, person: Person) -> SenderAssignment | None:
    """The staff member's sender number, assigning a free pool number on first use (S2).

    Returns None when the phone number limit (C7) is reached, no pool number is free, or the
    person is a student (students are never assigned a number). The assignment gives the staff
    member a system PersonPhone (P4). A number never used is given first, then the one released
    longest ago; a number still resting (Q1) only when no other is free, and that is recorded
    on the assignment (`assigned_while_resting`) and logged.
    """
    existing = sender_assignment_active(person.pk)
    if existing is not None:
        return existing
    if person.is_student:
        return None
    with transaction.atomic():
        # Serialise assignments so that the count below cannot be raced past the limit (C7).
        config = SmsConfiguration.objects.select_for_update().get(
            pk=sms_admin_services.configuration_get().pk
        )
        existing = sender_assignment_active(person.pk)
        if existing is not None:
            return existing
        if selectors.sender_assignments_active().count() >= config.sms_phone_number_limit:
            return None
        free = (
            selectors.sender_numbers_free()
            .annotate(last_released_at=Subquery(_last_release))
            .order_by(F("last_released_at").asc(nulls_first=True), "id")
            .select_for_update(skip_locked=True)
            .first()
        )
        if free is None:
            return None
        resting_since = _resting_since(free, days=config.number_quarantine_days)
        if resting_since is not None:
            logger.warning(
                "No rested number was free: %s goes to %s (person %s) although it was released "
                "on %s, less than %s days ago; replies to its last holder's texts still reach "
                "them.",
                free.number,
                person.full_name,
                person.pk,
                resting_since.isoformat(),
                config.number_quarantine_days,
            )
        phone_type, _ = PhoneType.objects.get_or_create(
            code=SYSTEM_PHONE_TYPE_CODE, defaults={"name": "System"}
        )
        phone = people_services.phone_create(
            person=person,
            number=free.number,
            phone_type=phone_type,
            src_system_id=f"{free.number}.{SYSTEM_SRC_SUFFIX}",
            phone_type_src_system_id=SYSTEM_PHONE_TYPE_SRC,
        )
        assignment = SenderAssignment.objects.create(
            sender_number=free,
            person=person,
            phone=phone,
            assigned_while_resting=resting_since is not None,
        )
    return assignment


# When each number was last released (the free numbers' assignments are all released).
_last_release = (
    SenderAssignment.objects.filter(sender_number=OuterRef("pk"), released_at__isnull=False)
    .order_by("-released_at")
    .values("released_at")[:1]
)


def _resting_since(number: SenderNumber, *, days: int) -> datetime | None:
    """When `number` was released, if that was less than `days` days ago (it is resting)."""
    released: datetime | None = getattr(number, "last_released_at", None)
    if released is None or released <= timezone.now() - timedelta(days=days):
        return None
    return released


def sender_assignment_release(*, assignment_id: int, actor: Actor = None) -> SenderAssignment:
    """Un-assign (S8): the assignment is marked released (when, and by whom when `actor` is a
    logged-in user) and the staff member's system phone is soft-deleted, in one transaction; the
    number is then free for the next new sender.

    The release is a conditional UPDATE on the assignment still being active, so two
    administrators (or the grid and the S9 command) releasing the same row release it once; the
    second is told so.

    :raises SenderAssignment.DoesNotExist: for an unknown id.
    :raises ValidationError: when the assignment was already released (nothing changes).
    """
    now = timezone.now()
    released_by = actor if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        changed = SenderAssignment.objects.filter(
            pk=assignment_id, released_at__isnull=True
        ).update(released_at=now, released_by=released_by)
        if not changed:
            if not SenderAssignment.objects.filter(pk=assignment_id).exists():
                raise SenderAssignment.DoesNotExist(
                    f"There is no number assignment with id {assignment_id}."
                )
            raise ValidationError("This number was already un-assigned.", code="already_released")
        assignment = SenderAssignment.objects.select_related(
            "phone", "person", "sender_number"
        ).get(pk=assignment_id)
        phone = PersonPhone.objects.select_for_update().get(pk=assignment.phone_id)
        people_services.phone_delete(phone=phone, releasing_assignment=True)
    return assignment


def phone_usage_list() -> QuerySet[SenderAssignment]:
    """Active assignments for the Phone Number Usage grid (C7), each with `held_by_student`,
    in one query: the rows of the Twilio tab's grid, in its order (newest first)."""
    return selectors.sender_assignment_grid()


def student_held_assignments() -> QuerySet[SenderAssignment]:
    """Active assignments held by students (S9: not allowed since 2021-10-01)."""
    return selectors.sender_assignment_grid(students_only=True)


def sender_number_remove(
    *, sender_number_id: int | None = None, number: str | None = None, actor: Any = None
) -> None:
    """Remove a number from the pool, by id or by the number as typed; recorded in the change
    history (C10). A number someone holds must be un-assigned first.

    :raises SenderNumber.DoesNotExist: for an unknown id or a number not in the pool.
    :raises ValidationError: for a number that is not a phone number, or one that is assigned.
    """
    if number is not None:
        normalized = phone_numbers.phone_number_normalize(number)
        found = SenderNumber.objects.filter(number=normalized).first()
        if found is None:
            raise SenderNumber.DoesNotExist(f"{normalized} is not in the pool.")
    elif sender_number_id is not None:
        found = SenderNumber.objects.get(pk=sender_number_id)
    else:
        raise SenderNumber.DoesNotExist("Name the pool number to remove.")
    _sender_number_delete(found, actor=actor)


def _sender_number_delete(number: SenderNumber, *, actor: Any) -> None:
    holder = (
        selectors.sender_assignments_active()
        .filter(sender_number=number)
        .select_related("person")
        .first()
    )
    if holder is not None:
        raise ValidationError(
            f"{number.number} is assigned to {holder.person.full_name}; delete that assignment "
            "on the Phone Number Usage grid first."
        )
    if number.assignments.exists():
        # Past assignments keep their history: the number stays a record (PROTECT).
        raise ValidationError(
            f"{number.number} has past assignments in the history and cannot be removed."
        )
    with transaction.atomic():
        sms_admin_services.configuration_change_record(
            actor=actor, field="sender_number", old=number.number, new=""
        )
        number.delete()
