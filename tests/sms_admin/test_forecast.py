"""The month's forecast (A1) as a pure function: one row per case, no database, no clock."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from sms_admin.forecast import Forecast, UsageMeter, month_bounds, month_forecast

NY = ZoneInfo("America/New_York")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


SEPTEMBER = month_bounds(2026, 9, NY)
# Daylight saving time ends on 2026-11-01: November is 30 days and one hour long.
NOVEMBER = month_bounds(2026, 11, NY)

CASES = [
    # (why, month, now, sent, limit, expected)
    (
        "half the month, 200 a day: 6,000 by the end, under the limit",
        SEPTEMBER,
        local(2026, 9, 16),
        3000,
        10000,
        Forecast(6000, None),
    ),
    (
        "400 a day reaches 10,000 ten days later",
        SEPTEMBER,
        local(2026, 9, 16),
        6000,
        10000,
        Forecast(12000, date(2026, 9, 26)),
    ),
    (
        "the first hour counts as a whole day: 40 texts forecast about 1,200, not 28,800",
        SEPTEMBER,
        local(2026, 9, 1, 1),
        40,
        10000,
        Forecast(1238, None),
    ),
    (
        "the first instant of the month: the day's floor keeps the pace finite",
        SEPTEMBER,
        local(2026, 9, 1),
        5,
        10000,
        Forecast(155, None),
    ),
    (
        "the limit already reached: today",
        SEPTEMBER,
        local(2026, 9, 21),
        10000,
        10000,
        Forecast(15000, date(2026, 9, 21)),
    ),
    (
        "no text yet: nothing forecast",
        SEPTEMBER,
        local(2026, 9, 20),
        0,
        10000,
        Forecast(0, None),
    ),
    (
        "a limit of 0 is reached from the start",
        SEPTEMBER,
        local(2026, 9, 20),
        0,
        0,
        Forecast(0, date(2026, 9, 20)),
    ),
    (
        "reached at 21:36 on the last evening: the institution's day, which is already "
        "October 1 in UTC",
        SEPTEMBER,
        local(2026, 9, 11),
        1000,
        2990,
        Forecast(3000, date(2026, 9, 30)),
    ),
    (
        "reached exactly as the month ends: not this month",
        SEPTEMBER,
        local(2026, 9, 16),
        5000,
        10000,
        Forecast(10000, None),
    ),
    (
        "a month with a daylight-saving change is measured in real hours (one text an hour)",
        NOVEMBER,
        local(2026, 11, 16),
        361,
        10000,
        Forecast(721, None),
    ),
]


@pytest.mark.parametrize(
    ("month", "now", "sent", "limit", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_forecast(
    month: tuple[datetime, datetime], now: datetime, sent: int, limit: int, expected: Forecast
) -> None:
    start, end = month
    assert (
        month_forecast(sent=sent, now=now, month_start=start, month_end=end, limit=limit)
        == expected
    )


def test_the_forecast_never_falls_below_what_was_sent() -> None:
    start, end = SEPTEMBER
    for hour in range(0, 30 * 24, 7):
        now = local(2026, 9, 1 + hour // 24, hour % 24)
        got = month_forecast(sent=123, now=now, month_start=start, month_end=end, limit=10**6)
        assert got.month_end >= 123


def test_month_bounds_run_from_the_first_to_the_next_first_in_the_zone() -> None:
    assert month_bounds(2026, 12, NY) == (local(2026, 12, 1), local(2027, 1, 1))
    assert month_bounds(2026, 2, NY) == (local(2026, 2, 1), local(2026, 3, 1))


@pytest.mark.parametrize(
    ("used", "limit", "level", "state"),
    [
        (0, 10000, "ok", "0% of the limit used."),
        (7999, 10000, "ok", "79% of the limit used."),
        (8000, 10000, "warn", "80% of the limit used: nearing the limit."),
        (9999, 10000, "warn", "99% of the limit used: nearing the limit."),
        (10000, 10000, "full", "The limit is reached."),
        (3, 4, "ok", "75% of the limit used."),
        (4, 5, "warn", "80% of the limit used: nearing the limit."),
        (6, 5, "full", "The limit is reached."),
        (0, 0, "full", "The limit is reached."),
    ],
)
def test_a_meter_turns_amber_at_80_percent_and_red_at_the_limit(
    used: int, limit: int, level: str, state: str
) -> None:
    meter = UsageMeter(used, limit)
    assert (meter.level, meter.state) == (level, state)
