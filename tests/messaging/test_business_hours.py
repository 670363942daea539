"""Business hours (V5) as a table: Monday-Friday 08:00-17:00 on the institution's wall clock,
weekends and nights not counted, daylight-saving days still 9 hours. No database."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from messaging.business_hours import business_hours

NY = ZoneInfo("America/New_York")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        # Inside one business day.
        (ny(2026, 9, 14, 9, 0), ny(2026, 9, 14, 12, 30), 3.5),
        # Before opening and after closing count nothing.
        (ny(2026, 9, 14, 6, 0), ny(2026, 9, 14, 8, 0), 0),
        (ny(2026, 9, 14, 17, 0), ny(2026, 9, 14, 23, 0), 0),
        (ny(2026, 9, 14, 6, 0), ny(2026, 9, 14, 23, 0), 9),
        # Overnight: Monday 16:00 to Tuesday 09:00 is 2 hours.
        (ny(2026, 9, 14, 16, 0), ny(2026, 9, 15, 9, 0), 2),
        # A weekend counts nothing: Friday 16:00 to Monday 09:00 is 2 hours.
        (ny(2026, 9, 18, 16, 0), ny(2026, 9, 21, 9, 0), 2),
        (ny(2026, 9, 19, 10, 0), ny(2026, 9, 20, 15, 0), 0),
        # A whole week is 45 hours.
        (ny(2026, 9, 14, 0, 0), ny(2026, 9, 21, 0, 0), 45),
        # Spring forward (Sunday 2026-03-08): Friday 12:00 to Monday 12:00 is 5 + 4 hours.
        (ny(2026, 3, 6, 12, 0), ny(2026, 3, 9, 12, 0), 9),
        # Fall back (Sunday 2026-11-01), same shape.
        (ny(2026, 10, 30, 12, 0), ny(2026, 11, 2, 12, 0), 9),
        # The business day right after the change is still 9 hours.
        (ny(2026, 3, 9, 0, 0), ny(2026, 3, 10, 0, 0), 9),
        # Given in UTC, read on the institution's clock: 13:00Z is 09:00 in New York (EDT).
        (datetime(2026, 9, 14, 13, 0, tzinfo=UTC), datetime(2026, 9, 14, 21, 0, tzinfo=UTC), 8),
        # Backwards or empty: 0.
        (ny(2026, 9, 14, 12, 0), ny(2026, 9, 14, 9, 0), 0),
        (ny(2026, 9, 14, 12, 0), ny(2026, 9, 14, 12, 0), 0),
    ],
)
def test_business_hours(start: datetime, end: datetime, hours: float) -> None:
    assert business_hours(start, end, NY) == pytest.approx(hours)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        business_hours(datetime(2026, 9, 14, 9), ny(2026, 9, 14, 10), NY)
