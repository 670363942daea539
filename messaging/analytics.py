"""Analytics per month and per staff member (A3): the figures, the 12-month trend, the CSV.

Definitions (docs/DECISIONS.md, "Analytics"):

- A month is a calendar month of the institution's time zone (settings.TIME_ZONE); a message
  counts in the month it was recorded (`created_at`).
- *Sent*: the staff member's outbound texts (channel SMS), whatever became of them; a text tried
  again after "unreachable" counts once per attempt, as in the monthly count. *Delivered* and
  *failed* (failed or undelivered) are among those; the rest still await an outcome.
- *By email*: the staff member's outbound emails, each one a text that went by email instead
  (routed there, or the fallback of a failed text).
- *Replies*: ordinary inbound texts (not STOP, START or HELP) that answered the staff member's
  text (replies to their number within the reply window). *Reply rate*: of the people the staff
  member texted that month, the share who replied that month (at most 100 %).
- *Opt-outs*: a person's own opt-out, counted once per event: an opt-out keyword (STOP...) texted
  into the staff member's conversation, or a text of theirs Twilio refused with 21610 (the person
  had said STOP to Twilio). STOPs that reached no staff member (the shared inbox, an unknown
  number) count only in the month's total.

Query budget, whatever the number of staff or messages: one grouped query for a month's staff
rows and one for their names; for the 12-month trend, one read of the settled months' sums
(MonthSummary), one grouped count of the months still moving (and of settled months viewed for
the first time), and on such a first view one insert of their sums.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Count, F, Q, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from messaging.models import Channel, Direction, Message, MonthSummary, Status
from messaging.report import csv_safe
from people.models import OPT_OUT_ERROR_CODE, Person

FIRST_YEAR = 2000
TREND_MONTHS = 12
# A month this many days past its end no longer changes (late delivery receipts and the retries
# of unreachable texts come within hours): the chart sums it once (MonthSummary).
SETTLE_DAYS = 7
TREND_FIELDS = ("sent", "delivered", "failed", "by_email")
MONTH_FORMAT = re.compile(r"[0-9]{4}-[0-9]{2}")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Outbound statuses of a text that was (or is being) sent; any other status (a text not yet
# due, or withdrawn) is not a text sent.
SENT_STATUSES = (
    Status.QUEUED,
    Status.SENDING,
    Status.SENT,
    Status.DELIVERED,
    Status.UNDELIVERED,
    Status.FAILED,
)
FAILED_STATUSES = (Status.FAILED, Status.UNDELIVERED)
OPT_OUT_KEYWORD = "stop"


def institution_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


class MonthError(ValueError):
    """A `month` parameter that is not a month the analytics can show; the text says why."""


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month of the institution's time zone."""

    year: int
    number: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.number:02d}"

    @property
    def label(self) -> str:
        return f"{MONTH_NAMES[self.number - 1]} {self.year}"

    @property
    def short_label(self) -> str:
        return f"{MONTH_NAMES[self.number - 1][:3]} {self.year % 100:02d}"

    @property
    def reported(self) -> bool:
        """Whether the analytics page shows this month (from January 2000; later bounds, the
        current month, are the caller's)."""
        return self.year >= FIRST_YEAR

    def shift(self, months: int) -> Month:
        index = self.year * 12 + self.number - 1 + months
        return Month(index // 12, index % 12 + 1)

    def start(self) -> datetime:
        """Midnight of the first day, in the institution's time zone (aware)."""
        return datetime(self.year, self.number, 1, tzinfo=institution_zone())

    def end(self) -> datetime:
        """The start of the next month (exclusive end)."""
        return self.shift(1).start()


def month_current(now: datetime | None = None) -> Month:
    local = timezone.localtime(now or timezone.now(), institution_zone())
    return Month(local.year, local.month)


def month_parse(value: str | None, *, now: datetime | None = None) -> Month:
    """The month named `value` (YYYY-MM), or the current month when `value` is blank.

    :raises MonthError: for anything else, a month before 2000 or a month in the future.
    """
    current = month_current(now)
    text = (value or "").strip()
    if not text:
        return current
    if not MONTH_FORMAT.fullmatch(text):
        raise MonthError(f"'{text[:20]}' is not a month: write it as YYYY-MM, e.g. {current}.")
    month = Month(int(text[:4]), int(text[5:]))
    if not 1 <= month.number <= 12:
        raise MonthError(f"'{text}' is not a month: the month part must be 01 to 12.")
    if not month.reported:
        raise MonthError(f"Choose a month from {FIRST_YEAR}-01 to {current}.")
    if month > current:
        raise MonthError(f"{text} is in the future: choose {current} or an earlier month.")
    return month


# --- the figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One staff member's month, or a month's total."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0
    by_email: int = 0
    replies: int = 0
    opt_outs: int = 0
    people_texted: int = 0
    people_replied: int = 0

    @property
    def awaiting(self) -> int:
        return max(0, self.sent - self.delivered - self.failed)

    @property
    def delivered_percent(self) -> float | None:
        return _percent(self.delivered, self.sent)

    @property
    def failed_percent(self) -> float | None:
        return _percent(self.failed, self.sent)

    @property
    def reply_rate(self) -> float | None:
        if not self.people_texted:
            return None
        return min(100.0, _percent(self.people_replied, self.people_texted) or 0.0)

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            **{
                name: getattr(self, name) + getattr(other, name)
                for name in self.__dataclass_fields__
            }
        )


FIGURE_FIELDS = tuple(Figures.__dataclass_fields__)


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class StaffRow:
    staff_id: int
    staff_name: str
    figures: Figures


@dataclass(frozen=True)
class MonthReport:
    month: Month
    rows: tuple[StaffRow, ...]
    # Opt-outs that reached no staff member's conversation.
    unattributed_opt_outs: int

    @property
    def totals(self) -> Figures:
        total = Figures(opt_outs=self.unattributed_opt_outs)
        for row in self.rows:
            total = total + row.figures
        return total


_OUT = Q(direction=Direction.OUTBOUND)
_TEXT = _OUT & Q(channel=Channel.SMS, status__in=SENT_STATUSES)
_EMAIL = _OUT & Q(channel=Channel.EMAIL)
_REPLY = Q(direction=Direction.INBOUND, is_reply=True, keyword="")
_STOP = Q(direction=Direction.INBOUND, keyword=OPT_OUT_KEYWORD)
_REFUSED_OPTED_OUT = _OUT & Q(channel=Channel.SMS, error_code=OPT_OUT_ERROR_CODE)


def _staff_key() -> Case:
    """The staff member a message belongs to: the sender of an outbound message; for an inbound
    text, the staff member whose conversation it joined (`recipient`)."""
    return Case(When(_OUT, then=F("sender_id")), default=F("recipient_id"))


def _figures_aggregates() -> dict[str, Any]:
    return {
        "sent": Count("id", filter=_TEXT),
        "delivered": Count("id", filter=_TEXT & Q(status=Status.DELIVERED)),
        "failed": Count("id", filter=_TEXT & Q(status__in=FAILED_STATUSES)),
        "by_email": Count("id", filter=_EMAIL),
        "replies": Count("id", filter=_REPLY),
        "opt_outs": Count("id", filter=_STOP | _REFUSED_OPTED_OUT),
        "people_texted": Count("recipient_id", filter=_TEXT, distinct=True),
        "people_replied": Count("sender_id", filter=_REPLY, distinct=True),
    }


def month_report(month: Month) -> MonthReport:
    """Every staff member with a message in `month`, by name; two queries."""
    grouped = (
        Message.objects.filter(created_at__gte=month.start(), created_at__lt=month.end())
        .annotate(staff=_staff_key())
        .values("staff")
        .annotate(**_figures_aggregates())
        .order_by()
    )
    figures: dict[int, Figures] = {}
    unattributed = 0
    for row in grouped:
        values = {name: int(row[name]) for name in FIGURE_FIELDS}  # type: ignore[literal-required]
        if row["staff"] is None:
            unattributed = values["opt_outs"]
        else:
            figures[int(row["staff"])] = Figures(**values)
    names = {
        person.pk: person.full_name
        for person in Person.objects.filter(pk__in=list(figures)).only("first_name", "last_name")
    }
    rows = [
        StaffRow(staff_id=pk, staff_name=names.get(pk, f"Person #{pk}"), figures=value)
        for pk, value in figures.items()
        if value != Figures()
    ]
    rows.sort(key=lambda row: (row.staff_name.casefold(), row.staff_id))
    return MonthReport(month=month, rows=tuple(rows), unattributed_opt_outs=unattributed)


# --- the 12-month trend -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrendMonth:
    month: Month
    delivered: int
    failed: int
    awaiting: int
    by_email: int

    @property
    def texts(self) -> int:
        return self.delivered + self.failed + self.awaiting

    @property
    def total(self) -> int:
        return self.texts + self.by_email


def _runs(months: Sequence[Month]) -> list[tuple[Month, Month]]:
    """Consecutive months grouped as (first, last) runs, so each run is one time range."""
    runs: list[tuple[Month, Month]] = []
    for month in sorted(months):
        if runs and runs[-1][1].shift(1) == month:
            runs[-1] = (runs[-1][0], month)
        else:
            runs.append((month, month))
    return runs


def _counted_live(months: Sequence[Month]) -> dict[Month, dict[str, int]]:
    """Texts by outcome and emails of staff in `months`, counted from the messages: one query
    grouped by month in the institution's zone."""
    within = Q()
    for first, last in _runs(months):
        within |= Q(created_at__gte=first.start(), created_at__lt=last.end())
    grouped = (
        Message.objects.filter(within, _OUT, sender__isnull=False)
        .annotate(month=TruncMonth("created_at", tzinfo=institution_zone()))
        .values("month")
        .annotate(
            sent=Count("id", filter=_TEXT),
            delivered=Count("id", filter=_TEXT & Q(status=Status.DELIVERED)),
            failed=Count("id", filter=_TEXT & Q(status__in=FAILED_STATUSES)),
            by_email=Count("id", filter=_EMAIL),
        )
        .order_by()
    )
    counted = {month: dict.fromkeys(TREND_FIELDS, 0) for month in months}
    for row in grouped:
        local = timezone.localtime(row["month"], institution_zone())
        counted[Month(local.year, local.month)] = {
            "sent": row["sent"],
            "delivered": row["delivered"],
            "failed": row["failed"],
            "by_email": row["by_email"],
        }
    return counted


def trend(
    last: Month,
    months: int = TREND_MONTHS,
    *,
    now: datetime | None = None,
    known: MonthReport | None = None,
) -> list[TrendMonth]:
    """What staff sent in each of the `months` months ending with `last`, oldest first: texts by
    outcome and emails sent instead.

    Settled months (ended more than SETTLE_DAYS ago) are read from their MonthSummary, summed
    once on first view; the others are counted live, except the month of `known` (a
    month_report already read: its staff rows add up to the same counts). At most three
    queries: the summaries, one grouped count of the months without one, and the insert of the
    newly settled ones.
    """
    now = now or timezone.now()
    zone = institution_zone().key
    window = [last.shift(index - months + 1) for index in range(months)]
    settled = [m for m in window if m.end() + timedelta(days=SETTLE_DAYS) <= now]
    found: dict[Month, dict[str, int]] = {}
    if settled:
        which = Q()
        for month in settled:
            which |= Q(year=month.year, month=month.number)
        for summary in MonthSummary.objects.filter(which, time_zone=zone):
            found[Month(summary.year, summary.month)] = {
                name: getattr(summary, name) for name in TREND_FIELDS
            }
    missing = [m for m in window if m not in found]
    if missing:
        counted: dict[Month, dict[str, int]] = {}
        if known is not None and known.month in missing:
            totals = known.totals
            counted[known.month] = {name: getattr(totals, name) for name in TREND_FIELDS}
        live = [m for m in missing if m not in counted]
        if live:
            counted.update(_counted_live(live))
        found.update(counted)
        newly_settled = [m for m in missing if m in settled]
        if newly_settled:
            # Racing first views insert the same figures; the unique constraint keeps one.
            MonthSummary.objects.bulk_create(
                [
                    MonthSummary(
                        time_zone=zone,
                        year=m.year,
                        month=m.number,
                        computed_at=now,
                        **counted[m],
                    )
                    for m in newly_settled
                ],
                ignore_conflicts=True,
            )
    result = []
    for month in window:
        counts = found[month]
        result.append(
            TrendMonth(
                month=month,
                delivered=counts["delivered"],
                failed=counts["failed"],
                awaiting=max(0, counts["sent"] - counts["delivered"] - counts["failed"]),
                by_email=counts["by_email"],
            )
        )
    return result


# --- CSV ----------------------------------------------------------------------------------------

CSV_HEADER = (
    "month",
    "staff_id",
    "staff",
    "sent",
    "delivered",
    "delivered_percent",
    "failed",
    "failed_percent",
    "by_email",
    "replies",
    "reply_rate_percent",
    "opt_outs",
)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _blank_if_none(value: float | None) -> object:
    return "" if value is None else value


def month_csv_lines(report: MonthReport) -> Iterator[str]:
    """The header, then one line per staff member (a month without messages: the header only)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for row in report.rows:
        f = row.figures
        cells: Sequence[object] = (
            str(report.month),
            row.staff_id,
            row.staff_name,
            f.sent,
            f.delivered,
            _blank_if_none(f.delivered_percent),
            f.failed,
            _blank_if_none(f.failed_percent),
            f.by_email,
            f.replies,
            _blank_if_none(f.reply_rate),
            f.opt_outs,
        )
        yield writer.writerow([csv_safe(cell) for cell in cells])
