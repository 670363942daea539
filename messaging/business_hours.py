"""Business hours between two moments (V5): Monday to Friday, 08:00 to 17:00 on the wall clock of
the institution's time zone. Pure: no settings, clock or database (the caller passes the zone).

A daylight-saving change happens at night, so a business day is always 9 hours; the window's
ends are read on the wall clock of that day, then compared as instants.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

OPENS = time(8, 0)
CLOSES = time(17, 0)
WORKDAYS = frozenset(range(5))  # Monday .. Friday


def business_seconds(start: datetime, end: datetime, zone: ZoneInfo) -> float:
    """Seconds of business time from `start` to `end` (aware datetimes); 0 when end <= start."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    if end <= start:
        return 0.0
    total = 0.0
    day: date = start.astimezone(zone).date()
    last: date = end.astimezone(zone).date()
    while day <= last:
        if day.weekday() in WORKDAYS:
            opens = datetime.combine(day, OPENS, tzinfo=zone)
            closes = datetime.combine(day, CLOSES, tzinfo=zone)
            # Aware datetimes of one zone subtract on the wall clock: compare as instants (UTC).
            lo = max(start, opens).timestamp()
            hi = min(end, closes).timestamp()
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def business_hours(start: datetime, end: datetime, zone: ZoneInfo) -> float:
    return business_seconds(start, end, zone) / 3600
