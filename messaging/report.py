"""The Message Report (S7, S9): one filter, parsed once, for the page, its CSV export and the API.

`report_filter_parse` turns query parameters into a typed `ReportFilter` or raises
`ReportFilterError` with one sentence per bad parameter; `message_report` is the selector that
applies it. Parameter names are the REST contract's (`direction`, `sender`, `recipient`, `channel`,
`status`, `failure_reason`, `created_after`, `created_before`, `cohort`), so a page URL and an
API URL with the same query string list the same messages.

Dates are days in the institution's time zone (settings.TIME_ZONE), both ends inclusive; an ISO
8601 date-time is taken as given (a naive one in the institution's zone).

Query budget: the report is one query (sender and recipient joined), whatever its length.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet, TextChoices
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from messaging.models import Channel, Direction, FailureReason, Message, Status
from people import selectors as people_selectors

MAX_ID = 2**63 - 1

# Names a bad value is reported under, in the interfaces' own words.
CHOICE_PARAMETERS: dict[str, tuple[str, type[TextChoices]]] = {
    "direction": ("direction", Direction),
    "channel": ("channel", Channel),
    "status": ("status", Status),
    "failure_reason": ("failure reason", FailureReason),
}
PERSON_PARAMETERS = ("sender", "recipient")
DATE_PARAMETERS = ("created_after", "created_before")
PARAMETERS = (*CHOICE_PARAMETERS, *PERSON_PARAMETERS, *DATE_PARAMETERS, "cohort")


class ReportFilterError(ValueError):
    """Some filter values are not understood; `errors` maps each parameter to a sentence."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class PersonMatch:
    """A person named by id, or every person matching a search (name, email or SIS ID)."""

    id: int | None = None
    search: str = ""


@dataclass(frozen=True)
class ReportFilter:
    direction: str | None = None
    channel: str | None = None
    status: str | None = None
    failure_reason: str | None = None
    sender: PersonMatch | None = None
    recipient: PersonMatch | None = None
    # Inclusive start and exclusive end, aware.
    created_from: datetime | None = None
    created_until: datetime | None = None
    # The messages of one cohort send (its texts and their email fallbacks).
    cohort: int | None = None


def institution_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    return value.strip() if isinstance(value, str) else ""


def _choice(value: str, label: str, choices: type[TextChoices]) -> str:
    if value not in choices.values:
        raise ValueError(f"Unknown {label} '{value}'. Choose one of: {', '.join(choices.values)}.")
    return value


def _person(value: str, by_name: bool) -> PersonMatch:
    if value.isascii() and value.isdigit():
        number = int(value)
        if 1 <= number <= MAX_ID:
            return PersonMatch(id=number)
        raise ValueError(f"'{value}' is not a person id.")
    if not by_name:
        raise ValueError(f"'{value}' is not a person id (a whole number).")
    return PersonMatch(search=value)


def _cohort(value: str) -> int:
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    raise ValueError(f"'{value}' is not a cohort number (cohorts are numbered from 1).")


def _moment(value: str, end: bool) -> datetime:
    """The inclusive start (or exclusive end) of `value`, a date or a date-time, in UTC."""
    try:
        return _bound(value, end).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"'{value}' is out of the range of dates.") from None


def _bound(value: str, end: bool) -> datetime:
    if len(value) == 10:
        # A day; checked first, as parse_datetime would take it for its midnight.
        try:
            day = parse_date(value)
        except ValueError:
            day = None
        if day is not None:
            if end:
                day += timedelta(days=1)
            return datetime.combine(day, time.min, tzinfo=institution_zone())
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(f"'{value}' is not a date (YYYY-MM-DD) or an ISO 8601 date-time.")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, institution_zone())
    # An end date-time is inclusive: up to and including that instant.
    return moment + timedelta(microseconds=1) if end else moment


def report_filter_parse(params: Mapping[str, Any], *, people_by_name: bool = False) -> ReportFilter:
    """The typed filter named by query `params`; blank and unknown parameters are ignored.

    `people_by_name` lets `sender` and `recipient` be a search (the page's From and To fields);
    the API takes person ids only. A whole number is always a person id.

    :raises ReportFilterError: naming every parameter whose value is not understood.
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in PARAMETERS:
        value = _text(params, name)
        if not value:
            continue
        try:
            if name in CHOICE_PARAMETERS:
                label, choices = CHOICE_PARAMETERS[name]
                values[name] = _choice(value, label, choices)
            elif name in PERSON_PARAMETERS:
                values[name] = _person(value, people_by_name)
            elif name == "cohort":
                values["cohort"] = _cohort(value)
            elif name == "created_after":
                values["created_from"] = _moment(value, end=False)
            else:
                values["created_until"] = _moment(value, end=True)
        except ValueError as exc:
            errors[name] = str(exc)
    start, end = values.get("created_from"), values.get("created_until")
    if start is not None and end is not None and end <= start:
        errors["created_before"] = "The end of the date range is before its start."
    if errors:
        raise ReportFilterError(errors)
    return ReportFilter(**values)


def _person_filter(field: str, match: PersonMatch) -> dict[str, Any]:
    if match.id is not None:
        return {f"{field}_id": match.id}
    return {f"{field}__in": people_selectors.person_search(match.search).values("pk")}


def message_report(report_filter: ReportFilter) -> QuerySet[Message]:
    """The messages `report_filter` selects, newest first, with sender and recipient joined."""
    messages = Message.objects.select_related("sender", "recipient").order_by("-created_at", "-id")
    lookups: dict[str, Any] = {
        "direction": report_filter.direction,
        "channel": report_filter.channel,
        "status": report_filter.status,
        "failure_reason": report_filter.failure_reason,
        "created_at__gte": report_filter.created_from,
        "created_at__lt": report_filter.created_until,
        "cohort_id": report_filter.cohort,
    }
    messages = messages.filter(**{k: v for k, v in lookups.items() if v is not None})
    if report_filter.sender is not None:
        messages = messages.filter(**_person_filter("sender", report_filter.sender))
    if report_filter.recipient is not None:
        messages = messages.filter(**_person_filter("recipient", report_filter.recipient))
    return messages


# CSV export ---------------------------------------------------------------------------------

CSV_HEADER = (
    "id",
    "created_at",
    "direction",
    "sender_id",
    "from",
    "from_number",
    "recipient_id",
    "to",
    "channel",
    "destination",
    "status",
    "failure_reason",
    "failure_reason_text",
    "error_code",
    "segments",
    "replaces",
    "retry_of",
    "twilio_sid",
    "body",
)

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """Text a spreadsheet could take for a formula gets a leading quote; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_row(message: Message, zone: ZoneInfo) -> list[object]:
    return [
        message.pk,
        message.created_at.astimezone(zone).isoformat(timespec="seconds"),
        message.direction,
        message.sender_id or "",
        message.sender.full_name
        if message.sender
        else ("automatic answer to HELP" if message.is_automatic_answer else ""),
        message.from_number,
        message.recipient_id or "",
        message.recipient.full_name if message.recipient else "",
        message.channel,
        message.destination,
        message.status,
        message.failure_reason,
        message.get_failure_reason_display() if message.failure_reason else "",
        "" if message.error_code is None else message.error_code,
        message.segments,
        message.replaces_id or "",
        message.retry_of_id or "",
        message.twilio_sid or "",
        message.body,
    ]


class _Echo:
    """A write-only file whose write returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def report_csv_lines(messages: Iterable[Message], *, chunk_size: int = 2000) -> Iterator[str]:
    """The header line, then one CSV line per message, read `chunk_size` rows at a time.

    A QuerySet is streamed (`iterator`): one query, memory bounded by the chunk size.
    """
    writer = csv.writer(_Echo())
    zone = institution_zone()
    yield writer.writerow(CSV_HEADER)
    rows = messages.iterator(chunk_size=chunk_size) if isinstance(messages, QuerySet) else messages
    for message in rows:
        yield writer.writerow([csv_safe(cell) for cell in _csv_row(message, zone)])
