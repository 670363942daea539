"""Quiet hours (K6): the institution-wide window in which no text leaves, read on the wall clock
of the institution's time zone; it may cross midnight (21:00-08:00). Pure: no settings, clock or
database (the caller passes the window and the zone).

A text that would leave inside the window waits for its end. The end is read on the wall clock
of the day it falls on and then taken as an instant, so on a daylight-saving day the window is
an hour shorter or longer, and an end inside the skipped hour (02:30 on a spring-forward day)
is the first instant after it.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def inside(moment: datetime, start: time | None, end: time | None, zone: ZoneInfo) -> bool:
    """Whether `moment` (aware) falls inside the window [start, end); never when it is off
    (either end empty, or both equal)."""
    if start is None or end is None or start == end:
        return False
    clock = moment.astimezone(zone).time().replace(tzinfo=None)
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def next_allowed(
    moment: datetime, start: time | None, end: time | None, zone: ZoneInfo
) -> datetime:
    """The first instant at or after `moment` (aware) outside the window: `moment` itself when
    it is outside (or the window is off), else the window's end, in `zone`."""
    if moment.tzinfo is None:
        raise ValueError("moment must be an aware datetime")
    if not inside(moment, start, end, zone):
        return moment
    assert start is not None and end is not None
    local = moment.astimezone(zone)
    day = local.date()
    if start > end and local.time().replace(tzinfo=None) >= start:
        # The evening part of a window across midnight ends the next morning.
        day += timedelta(days=1)
    wall = datetime.combine(day, end, tzinfo=zone)
    # Through UTC: a wall time skipped by a spring-forward change becomes a real instant.
    return wall.astimezone(UTC).astimezone(zone)


def _next_start(moment: datetime, start: time, zone: ZoneInfo) -> datetime:
    """The first instant after `moment` whose wall clock in `zone` reads `start` (a start in a
    skipped hour is the first instant after it)."""
    day = moment.astimezone(zone).date()
    while True:
        wall = datetime.combine(day, start, tzinfo=zone).astimezone(UTC).astimezone(zone)
        if wall > moment:
            return wall
        day += timedelta(days=1)


# A queue longer than this many nights is only said to end after them: the rest is added as it
# would pass outside any window.
_NIGHTS_AT_MOST = 400


def after_outside(
    moment: datetime, duration: timedelta, start: time | None, end: time | None, zone: ZoneInfo
) -> datetime:
    """When `duration` of time outside the window has passed, counted from `moment` (aware):
    when a queue that needs `duration` of sending and begins at `moment` ends, if it stops
    whenever the window begins and goes on at its end (how paced texts wait for quiet hours)."""
    at = next_allowed(moment, start, end, zone)
    left = max(duration, timedelta(0))
    if start is None or end is None or start == end:
        return at + left
    for _ in range(_NIGHTS_AT_MOST):
        begins = _next_start(at, start, zone)
        if at + left < begins:
            break
        left -= begins - at
        at = next_allowed(begins, start, end, zone)
    return at + left


def scheduled_words(send_at: datetime, now: datetime, zone: ZoneInfo) -> str:
    """When a waiting text goes, in the institution's time: "will go at 08:00" (today),
    "will go tomorrow at 08:00", or "will go on 2026-12-24 at 08:00"."""
    local, today = send_at.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return f"will go at {local:%H:%M}"
    if local.date() == today + timedelta(days=1):
        return f"will go tomorrow at {local:%H:%M}"
    return f"will go on {local:%Y-%m-%d} at {local:%H:%M}"


def window_words(start: time | None, end: time | None) -> str:
    """ "21:00-08:00", or "" when quiet hours are off."""
    if start is None or end is None or start == end:
        return ""
    return f"{start:%H:%M}-{end:%H:%M}"


def scheduled_announcement(
    send_at: datetime,
    *,
    asked: datetime | None,
    start: time | None,
    end: time | None,
    zone: ZoneInfo,
) -> str:
    """What a page says of a text (or a cohort) recorded `scheduled` for `send_at`: the date and
    time in the institution's `zone` and, when quiet hours (`start`-`end`) moved it, why (K5,
    K6). `asked`: the time the sender chose; None when quiet hours alone held the text."""
    said = f"Scheduled for {send_at.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key} time)"
    window = window_words(start, end)
    if asked is None:
        return f"{said}, when quiet hours ({window}) end. Until then it can be cancelled."
    if asked != send_at:
        return (
            f"{said}: {asked.astimezone(zone):%H:%M} is inside quiet hours ({window}), "
            "so it waits for their end. Until then it can be cancelled."
        )
    return f"{said}. Until then it can be cancelled."
