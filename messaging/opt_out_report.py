"""The opt-out report (A4): every change into or out of SMS Disabled, with its cause in words.

The rows are the phones' status history (people.PhoneStatusChange, T10) where the new status is
SMS Disabled (an opt-out keyword, a Twilio error code, by hand) or the old one was and the new one
is not (a lift: START, or by hand with the administrator's reason). Dates are whole days of the
institution's time zone, both ends inclusive.

Query budget: the page is a count and one query per page (phone, person, editor and the editor's
person joined), plus one small read of the error-code table; the CSV is one streamed query plus
that read.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet, TextChoices

from messaging.report import csv_safe
from people.models import PhoneStatusChange, SmsStatus, StatusCause
from sms_admin.models import ErrorCodePolicy


class ChangeKind(TextChoices):
    DISABLED = "disabled", "Became SMS Disabled"
    LIFTED = "lifted", "SMS Disabled lifted"


DISABLED = Q(new_status=SmsStatus.DISABLED) & ~Q(old_status=SmsStatus.DISABLED)
LIFTED = Q(old_status=SmsStatus.DISABLED) & ~Q(new_status=SmsStatus.DISABLED)


@dataclass(frozen=True)
class OptOutFilter:
    start: date | None = None
    # Inclusive.
    end: date | None = None
    kind: str = ""


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_zone())


def opt_out_changes(report_filter: OptOutFilter) -> QuerySet[PhoneStatusChange]:
    """The changes `report_filter` selects, newest first, with phone, person and editor."""
    if report_filter.kind == ChangeKind.DISABLED:
        changes = PhoneStatusChange.objects.filter(DISABLED)
    elif report_filter.kind == ChangeKind.LIFTED:
        changes = PhoneStatusChange.objects.filter(LIFTED)
    else:
        changes = PhoneStatusChange.objects.filter(DISABLED | LIFTED)
    if report_filter.start is not None:
        changes = changes.filter(changed_at__gte=_midnight(report_filter.start))
    if report_filter.end is not None:
        changes = changes.filter(changed_at__lt=_midnight(report_filter.end + timedelta(days=1)))
    return changes.select_related("phone__person", "changed_by__person").order_by(
        "-changed_at", "-id"
    )


def error_code_meanings() -> dict[int, str]:
    """The error-code policy table's meanings (a few dozen rows at most; one query)."""
    return dict(ErrorCodePolicy.objects.values_list("code", "meaning"))


def editor_name(change: PhoneStatusChange) -> str:
    user = change.changed_by
    if user is None:
        return ""
    person = getattr(user, "person", None)
    return person.full_name if person is not None else user.get_username()


def cause_in_words(change: PhoneStatusChange, meanings: dict[int, str]) -> str:
    """Why the status changed, as an administrator reads it."""
    if change.cause == StatusCause.OPT_OUT:
        return "The person texted an opt-out keyword (STOP)"
    if change.cause == StatusCause.OPT_IN:
        return "The person texted an opt-in keyword (START)"
    if change.cause == StatusCause.ERROR_CODE:
        code = change.error_code
        meaning = meanings.get(code) if code is not None else None
        text = f"Twilio error code {code}" if code is not None else "A Twilio error code"
        return f"{text}: {meaning}" if meaning else text
    if change.cause == StatusCause.MANUAL:
        who = editor_name(change)
        return f"By hand, by {who}" if who else "By hand"
    if change.cause == StatusCause.STUDENT_INITIATED:
        return "The person texted first"
    return str(StatusCause(change.cause).label) if change.cause in StatusCause.values else ""


def change_kind(change: PhoneStatusChange) -> str:
    return ChangeKind.DISABLED if change.new_status == SmsStatus.DISABLED else ChangeKind.LIFTED


@dataclass(frozen=True)
class OptOutRow:
    """One change as the page and the CSV show it."""

    change: PhoneStatusChange
    kind: str
    kind_text: str
    cause_text: str
    editor: str


def opt_out_rows(
    changes: list[PhoneStatusChange], meanings: dict[int, str] | None = None
) -> list[OptOutRow]:
    meanings = error_code_meanings() if meanings is None else meanings
    rows = []
    for change in changes:
        kind = change_kind(change)
        rows.append(
            OptOutRow(
                change=change,
                kind=kind,
                kind_text=str(ChangeKind(kind).label),
                cause_text=cause_in_words(change, meanings),
                editor=editor_name(change),
            )
        )
    return rows


CSV_HEADER = (
    "changed_at",
    "change",
    "old_status",
    "new_status",
    "cause",
    "cause_text",
    "error_code",
    "changed_by",
    "reason",
    "person_id",
    "person",
    "phone",
)


class _Echo:
    def write(self, value: str) -> str:
        return value


def opt_out_csv_lines(
    changes: QuerySet[PhoneStatusChange], *, chunk_size: int = 2000
) -> Iterator[str]:
    """The header, then one line per change, streamed `chunk_size` rows at a time."""
    writer = csv.writer(_Echo())
    zone = _zone()
    yield writer.writerow(CSV_HEADER)
    meanings = error_code_meanings()
    for change in changes.iterator(chunk_size=chunk_size):
        phone = change.phone
        cells = (
            change.changed_at.astimezone(zone).isoformat(timespec="seconds"),
            change_kind(change),
            change.old_status,
            change.new_status,
            change.cause,
            cause_in_words(change, meanings),
            "" if change.error_code is None else change.error_code,
            editor_name(change),
            change.reason,
            phone.person_id,
            phone.person.full_name,
            phone.number,
        )
        yield writer.writerow([csv_safe(cell) for cell in cells])
