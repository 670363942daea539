"""The month's forecast (A1): texts by the month's end at the current pace, and the day the
limit (C6) would be reached; and how full a usage meter is (the 80% at which the Twilio tab's
meters turn amber and administrators are alerted, A2). Pure: no ORM, settings, clock or I/O; the
caller passes the moment and the month's bounds in the institution's time zone.

The pace is the month's texts so far over the time elapsed since the month began, but never
over less than `MIN_ELAPSED` (one day): 40 texts in the first hour of a month forecast about
1,200, not 29,000. Time is measured in real seconds (UTC), so a month with a daylight-saving
change is 743 or 745 hours long, as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from fractions import Fraction
from typing import Literal

MIN_ELAPSED = timedelta(days=1)
# A meter turns amber, and administrators get the first alert, at this share of a limit.
WARN_PERCENT = 80
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Forecast:
    # Texts by the month's end at the current pace: the month's demand, which can exceed the
    # limit (texts beyond it go by email).
    month_end: int
    # The institution's calendar day on which the limit is (or, at this pace, would be)
    # reached; None when the pace does not reach it before the month ends.
    limit_reached_on: date | None

    @property
    def over_limit(self) -> bool:
        return self.limit_reached_on is not None


def month_bounds(year: int, month: int, zone: tzinfo) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next one, in `zone`."""
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, end


def _micros(delta: timedelta) -> int:
    return delta // _MICROSECOND


def month_forecast(
    *, sent: int, now: datetime, month_start: datetime, month_end: datetime, limit: int
) -> Forecast:
    """The forecast for a month with `sent` texts so far at the moment `now` (aware datetimes;
    `month_start` and `month_end` in the institution's zone, whose calendar names the day).

    - The limit already reached (`sent >= limit`): `limit_reached_on` is the day of `now` (the
      counter does not record when it was reached; today it is).
    - No text yet: the forecast is 0 and the limit is not reached (unless it is 0).
    """
    zone = month_start.tzinfo
    assert zone is not None and now.tzinfo is not None, "aware datetimes only"
    # Arithmetic in UTC: an aware difference within one zone ignores daylight-saving changes.
    start, end = month_start.astimezone(UTC), month_end.astimezone(UTC)
    at = min(max(now.astimezone(UTC), start), end)
    elapsed = max(at - start, MIN_ELAPSED)
    remaining = end - at
    pace = Fraction(sent, _micros(elapsed))  # texts per microsecond
    month_total = sent + math.floor(pace * _micros(remaining) + Fraction(1, 2))
    if sent >= limit:
        return Forecast(month_total, at.astimezone(zone).date())
    if sent == 0:
        return Forecast(month_total, None)
    reach = at + timedelta(microseconds=math.ceil((limit - sent) / pace))
    reached_on = reach.astimezone(zone).date() if reach < end else None
    return Forecast(month_total, reached_on)


def threshold(limit: int, percent: int) -> int:
    """The count at which `percent` of `limit` is reached (rounded up: 80% of 9 is 8)."""
    return (limit * percent + 99) // 100


Level = Literal["ok", "warn", "full"]


@dataclass(frozen=True, slots=True)
class UsageMeter:
    """One of the Twilio tab's meters: `used` of `limit` (texts this month, numbers assigned)."""

    used: int
    limit: int

    @property
    def level(self) -> Level:
        """ "full" from the limit on (a limit of 0 is full), "warn" from 80%, else "ok"."""
        if self.used >= self.limit:
            return "full"
        if self.used >= threshold(self.limit, WARN_PERCENT):
            return "warn"
        return "ok"

    @property
    def percent(self) -> int:
        return 100 if self.limit <= 0 else self.used * 100 // self.limit

    @property
    def state(self) -> str:
        """The meter's colour in words, for those who do not see it."""
        if self.level == "full":
            return "The limit is reached."
        if self.level == "warn":
            return f"{self.percent}% of the limit used: nearing the limit."
        return f"{self.percent}% of the limit used."
