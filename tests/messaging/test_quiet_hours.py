"""The quiet-hours window on the institution's wall clock: table tests of `next_allowed`,
including a window across midnight and both daylight-saving days of New York."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from messaging.quiet_hours import after_outside, inside, next_allowed

NY = ZoneInfo("America/New_York")
NIGHT = (time(21, 0), time(8, 0))
LUNCH = (time(12, 0), time(13, 0))


@pytest.mark.parametrize(
    ("moment", "window", "expected"),
    [
        # Outside the window: the moment itself.
        (datetime(2026, 12, 1, 10, 0, tzinfo=NY), NIGHT, datetime(2026, 12, 1, 10, 0, tzinfo=NY)),
        (datetime(2026, 12, 1, 20, 59, tzinfo=NY), NIGHT, datetime(2026, 12, 1, 20, 59, tzinfo=NY)),
        # The end is allowed; the start is not.
        (datetime(2026, 12, 1, 8, 0, tzinfo=NY), NIGHT, datetime(2026, 12, 1, 8, 0, tzinfo=NY)),
        (datetime(2026, 12, 1, 21, 0, tzinfo=NY), NIGHT, datetime(2026, 12, 2, 8, 0, tzinfo=NY)),
        # Across midnight: the evening waits for the next morning, the early morning for today's.
        (datetime(2026, 12, 1, 23, 30, tzinfo=NY), NIGHT, datetime(2026, 12, 2, 8, 0, tzinfo=NY)),
        (datetime(2026, 12, 2, 3, 15, tzinfo=NY), NIGHT, datetime(2026, 12, 2, 8, 0, tzinfo=NY)),
        # The last evening of the year waits for the new year's morning.
        (datetime(2026, 12, 31, 22, 0, tzinfo=NY), NIGHT, datetime(2027, 1, 1, 8, 0, tzinfo=NY)),
        # A window within one day.
        (datetime(2026, 12, 1, 12, 30, tzinfo=NY), LUNCH, datetime(2026, 12, 1, 13, 0, tzinfo=NY)),
        (datetime(2026, 12, 1, 13, 0, tzinfo=NY), LUNCH, datetime(2026, 12, 1, 13, 0, tzinfo=NY)),
        # Read on the wall clock whatever zone the moment comes in: 02:00 UTC is 21:00 EST.
        (datetime(2026, 12, 2, 2, 0, tzinfo=UTC), NIGHT, datetime(2026, 12, 2, 8, 0, tzinfo=NY)),
        # Off: no window, or an empty one.
        (
            datetime(2026, 12, 1, 23, 0, tzinfo=NY),
            (None, None),
            datetime(2026, 12, 1, 23, 0, tzinfo=NY),
        ),
        (
            datetime(2026, 12, 1, 23, 0, tzinfo=NY),
            (time(21, 0), None),
            datetime(2026, 12, 1, 23, 0, tzinfo=NY),
        ),
        (
            datetime(2026, 12, 1, 23, 0, tzinfo=NY),
            (time(8, 0), time(8, 0)),
            datetime(2026, 12, 1, 23, 0, tzinfo=NY),
        ),
    ],
)
def test_next_allowed(
    moment: datetime, window: tuple[time | None, time | None], expected: datetime
) -> None:
    assert next_allowed(moment, window[0], window[1], NY) == expected


def test_the_spring_forward_night_is_an_hour_shorter() -> None:
    # 2026-03-08: New York skips 02:00-03:00. 23:00 EST on the 7th waits until 08:00 EDT,
    # 12:00 UTC: 8 hours, not 9.
    held = next_allowed(datetime(2026, 3, 7, 23, 0, tzinfo=NY), *NIGHT, NY)
    assert held.astimezone(UTC) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    elapsed = held.astimezone(UTC) - datetime(2026, 3, 7, 23, 0, tzinfo=NY).astimezone(UTC)
    assert elapsed.total_seconds() == 8 * 3600


def test_the_fall_back_night_is_an_hour_longer() -> None:
    # 2026-11-01: New York repeats 01:00-02:00. 23:00 EDT on Oct 31 waits until 08:00 EST,
    # 13:00 UTC: 10 hours.
    start = datetime(2026, 10, 31, 23, 0, tzinfo=NY)
    held = next_allowed(start, *NIGHT, NY)
    assert held.astimezone(UTC) == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
    assert (held.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 10 * 3600


def test_a_window_ending_in_the_skipped_hour_ends_at_the_first_real_instant_after_it() -> None:
    held = next_allowed(datetime(2026, 3, 8, 1, 30, tzinfo=NY), time(1, 0), time(2, 30), NY)
    assert held.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT
    assert not inside(held, time(1, 0), time(2, 30), NY)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_allowed(datetime(2026, 12, 1, 23, 0), *NIGHT, NY)


# --- how long a paced queue takes when quiet hours stop it -------------------------------------


@pytest.mark.parametrize(
    ("moment", "duration", "window", "expected"),
    [
        # Ends before the window: the window does not matter.
        (
            datetime(2026, 12, 1, 20, 0, tzinfo=NY),
            3599,
            NIGHT,
            datetime(2026, 12, 1, 20, 59, 59, tzinfo=NY),
        ),
        # Would end at the window's first instant: that instant is inside, so it ends at 08:00.
        (
            datetime(2026, 12, 1, 20, 0, tzinfo=NY),
            3600,
            NIGHT,
            datetime(2026, 12, 2, 8, 0, tzinfo=NY),
        ),
        # Two seconds before 21:00, four seconds of sending: two now, two from 08:00.
        (
            datetime(2026, 12, 1, 20, 59, 58, tzinfo=NY),
            4,
            NIGHT,
            datetime(2026, 12, 2, 8, 0, 2, tzinfo=NY),
        ),
        # Begun inside the window: it starts at its end.
        (
            datetime(2026, 12, 1, 23, 0, tzinfo=NY),
            60,
            NIGHT,
            datetime(2026, 12, 2, 8, 1, tzinfo=NY),
        ),
        # Thirty hours of sending from 08:00 (13 h a day outside 21:00-08:00): three days.
        (
            datetime(2026, 12, 1, 8, 0, tzinfo=NY),
            30 * 3600,
            NIGHT,
            datetime(2026, 12, 3, 12, 0, tzinfo=NY),
        ),
        # A window within the day.
        (
            datetime(2026, 12, 1, 11, 30, tzinfo=NY),
            3600,
            LUNCH,
            datetime(2026, 12, 1, 13, 30, tzinfo=NY),
        ),
        # Off: plain addition.
        (
            datetime(2026, 12, 1, 20, 0, tzinfo=NY),
            7200,
            (None, None),
            datetime(2026, 12, 1, 22, 0, tzinfo=NY),
        ),
    ],
)
def test_after_outside_counts_only_the_time_outside_the_window(
    moment: datetime, duration: int, window: tuple[time | None, time | None], expected: datetime
) -> None:
    assert after_outside(moment, timedelta(seconds=duration), window[0], window[1], NY) == expected


def test_a_queue_across_the_fall_back_night_waits_the_hour_longer_night() -> None:
    # 2026-11-01: 01:00-02:00 happens twice in New York, so 21:00-08:00 lasts 12 hours.
    moment = datetime(2026, 10, 31, 20, 0, tzinfo=NY)
    ended = after_outside(moment, timedelta(hours=2), *NIGHT, NY)
    assert ended == datetime(2026, 11, 1, 9, 0, tzinfo=NY)
    assert ended.astimezone(UTC) - moment.astimezone(UTC) == timedelta(hours=14)
