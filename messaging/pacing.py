"""Pacing (K7): each sender number's texts leave no faster than `sender_segments_per_second`.

Twilio queues about 4 hours of a number's texts and fails the rest (30001), so a cohort of
10,000 from one long code (1 segment a second) cannot be handed over at once. Here:

- Planning, when texts are recorded or released (`messages_plan`, inside the caller's
  transaction, one locked row per sender number, not per text): each text gets a slot after
  the number's last planned one (`Message.leaves_at`). Texts whose slot falls in the current
  second and fit its budget are handed to the worker at once, as before; the rest stay `queued`
  with `leaves_at` set and are not published (the worker's claim refuses them too).
- Admission (`messages_pace`, the pacer): per number, in slot order, only what fits the current
  second's budget of `rate` segments (a text longer than the rate goes alone in an otherwise
  empty second, and its surplus delays the following seconds). A late pacer catches up at the
  rate, never in a burst. The admitted texts lose `leaves_at` and are published as a batch.
- Waking (messaging.enqueue.pace): with a broker, the pacer task re-publishes itself with a
  short countdown while texts wait (one chain: a Redis flag set with NX), and the minute beat
  job runs it as a safety net; in-process (`make run`), the release loop thread runs it every
  second. No worker process sits idle waiting for a number.

Time is counted in slots of 1/rate second since the epoch, as integers, so a second's budget is
exact (no float drift lets a fourth text into a second of 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from messaging import enqueue, quiet_hours
from messaging.models import Channel, Message, SenderPace, Status
from sms_admin import services as sms_admin_services

_MICROS = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- the arithmetic (pure) -------------------------------------------------------------------


def _micros(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _MICROS + delta.microseconds


def second_of(at: datetime) -> int:
    """The whole second (since the epoch) `at` falls in."""
    return _micros(at) // _MICROS


def slot_of(at: datetime, rate: int) -> int:
    """The slot (1/rate second since the epoch) `at` falls in."""
    return _micros(at) * rate // _MICROS


def time_of(slot: int, rate: int) -> datetime:
    """When slot `slot` begins (to the microsecond, rounded down)."""
    return _EPOCH + timedelta(microseconds=slot * _MICROS // rate)


def rescale(slot: int, old_rate: int, new_rate: int) -> int:
    """A slot counted at `old_rate` counted at `new_rate` (rounded up: never earlier)."""
    if old_rate == new_rate or old_rate == 0:
        return slot
    return -(-slot * new_rate // old_rate)


def plan(
    planned_slot: int, now_slot: int, rate: int, sizes: Sequence[int]
) -> tuple[list[int], int]:
    """The slot of each text of `sizes` (segments) after the number's last planned one, not
    before now; and the number's next free slot. The same rule as `admit`, so a pacer on time
    admits each text in the second of its slot: a text that would not fit in the rest of a
    second, or is longer than the rate, starts at the next second."""
    at = max(planned_slot, now_slot)
    slots = []
    for size in sizes:
        size = max(1, size)
        offset = at % rate
        if offset and (size > rate or offset + size > rate):
            at += rate - offset
        slots.append(at)
        at += size
    return slots, at


def admit(admitted_slot: int, second: int, rate: int, sizes: Sequence[int]) -> tuple[int, int]:
    """How many of `sizes` (segments, in order) may leave in the second `second`, and the
    number's admitted slot afterwards.

    The second's budget is its `rate` slots; what earlier seconds admitted beyond their own
    budget is used first. A text goes while it fits; one longer than the rate goes alone in an
    otherwise empty second (it could never fit) and its surplus takes the following seconds.
    Texts go in order: one that does not fit stops the rest.
    """
    begin, end = second * rate, (second + 1) * rate
    at = max(admitted_slot, begin)
    count = 0
    for size in sizes:
        size = max(1, size)
        if at + size <= end or (at == begin and size > rate):
            at += size
            count += 1
        else:
            break
    return count, (at if count else admitted_slot)


# --- the pace rows ---------------------------------------------------------------------------

# Made on first use and locked until the caller's transaction ends, in one statement (on
# PostgreSQL, ON CONFLICT DO UPDATE takes the row lock whether it inserted or found it).
_LOCK = (
    f"INSERT INTO {SenderPace._meta.db_table} (number, rate, planned_slot, admitted_slot) "  # noqa: S608
    "VALUES (%s, %s, 0, 0) ON CONFLICT (number) DO UPDATE SET number = EXCLUDED.number "
    "RETURNING id, rate, planned_slot, admitted_slot"
)


def _pace_locked(number: str, rate: int) -> SenderPace:
    with connection.cursor() as cursor:
        cursor.execute(_LOCK, [number, rate])
        pk, old_rate, planned, admitted = cursor.fetchone()
    return SenderPace(
        pk=pk,
        number=number,
        rate=rate,
        planned_slot=rescale(planned, old_rate, rate),
        admitted_slot=rescale(admitted, old_rate, rate),
    )


def _pace_save(pace: SenderPace) -> None:
    SenderPace.objects.filter(pk=pace.pk).update(
        rate=pace.rate, planned_slot=pace.planned_slot, admitted_slot=pace.admitted_slot
    )


# --- planning, at recording and release ------------------------------------------------------


def messages_plan(messages: Sequence[Message], *, rate: int, now: datetime) -> datetime | None:
    """Give the queued texts of `messages` (not saved yet, or about to be bulk-updated) their
    slots, in the caller's transaction: those that may leave now keep `leaves_at` empty; the
    others get their planned departure. Returns the earliest `leaves_at` given (None: every
    text may leave now). Rate 0: no pacing, nothing is touched. Queries: 2 per sender number.

    Lock order: after the month's counter (taken by the caller), the numbers' rows in order.
    """
    if rate <= 0:
        return None
    by_number: dict[str, list[Message]] = {}
    for message in messages:
        sms = message.channel == Channel.SMS and message.status == Status.QUEUED
        if sms and message.from_number:
            by_number.setdefault(message.from_number, []).append(message)
    earliest: datetime | None = None
    second = second_of(now)
    for number in sorted(by_number):
        texts = by_number[number]
        pace = _pace_locked(number, rate)
        sizes = [m.segments for m in texts]
        slots, pace.planned_slot = plan(pace.planned_slot, slot_of(now, rate), rate, sizes)
        # Texts planned within this second may leave now, as far as its budget goes.
        this_second = [
            size for size, slot in zip(sizes, slots, strict=True) if slot < end(second, rate)
        ]
        going, pace.admitted_slot = admit(pace.admitted_slot, second, rate, this_second)
        for index, (message, slot) in enumerate(zip(texts, slots, strict=True)):
            if index < going:
                message.leaves_at = None
            else:
                message.leaves_at = time_of(slot, rate)
                earliest = (
                    message.leaves_at if earliest is None else min(earliest, message.leaves_at)
                )
        _pace_save(pace)
    return earliest


def end(second: int, rate: int) -> int:
    """The first slot after the second `second`."""
    return (second + 1) * rate


# --- admission (the pacer) -------------------------------------------------------------------

# At most this many numbers per run; the next run (a second later) takes the rest.
PACE_MAX_NUMBERS = 500
# With pacing off (rate 0) the texts still waiting go, this many per run.
UNPACED_MAX = 5000

_waiting = Message.objects.filter(status=Status.QUEUED, leaves_at__isnull=False)


@dataclass(frozen=True)
class PaceRun:
    admitted: int
    # When the pacer should run again: None when no text waits.
    next_at: datetime | None


def _clear(ids: Sequence[int], now: datetime) -> list[int]:
    """Take the texts of `ids` out of the wait (those still waiting: a text is admitted once).
    `updated_at` moves on, so the sweep gives their task its usual time before publishing again."""
    if not ids:
        return []
    table = Message._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET leaves_at = NULL, updated_at = %s WHERE id IN ({marks}) "  # noqa: S608
            "AND status = %s AND leaves_at IS NOT NULL RETURNING id",
            [connection.ops.adapt_datetimefield_value(now), *ids, Status.QUEUED],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _admit_number(number: str, rate: int, now: datetime) -> list[int]:
    """Admit what the current second allows of one number's waiting texts, in slot order; its
    own transaction. A number another pacer (or a send) holds is skipped: it is being served."""
    second = second_of(now)
    horizon = time_of(end(second, rate), rate)
    with transaction.atomic():
        pace = SenderPace.objects.select_for_update(skip_locked=True).filter(number=number).first()
        if pace is None:
            return []
        pace.admitted_slot = rescale(pace.admitted_slot, pace.rate, rate)
        pace.planned_slot = rescale(pace.planned_slot, pace.rate, rate)
        pace.rate = rate
        texts = list(
            _waiting.filter(from_number=number, leaves_at__lt=horizon)
            .order_by("leaves_at", "pk")
            .values_list("pk", "segments")[: max(1, rate)]
        )
        going, pace.admitted_slot = admit(
            pace.admitted_slot, second, rate, [size for _, size in texts]
        )
        ids = _clear([pk for pk, _ in texts[:going]], now)
        _pace_save(pace)
        enqueue.sms_batches(ids)
    return ids


def messages_pace(*, rate: int | None = None) -> PaceRun:
    """The pacer: admit, per sender number, the waiting texts the current second allows and
    publish them (on commit); returns how many and when to run again. Safe to run at once in
    several processes: a number is served by one at a time (its row lock, SKIP LOCKED) and a
    text leaves the wait once (a conditional UPDATE)."""
    now = timezone.now()
    configuration = sms_admin_services.configuration_get()
    if rate is None:
        rate = configuration.sender_segments_per_second
    # Quiet hours (K6): a text still waiting for its slot when they begin waits for their end,
    # then leaves at the rate as a late pacer's texts do (never in a burst).
    allowed = quiet_hours.next_allowed(
        now,
        configuration.quiet_hours_start,
        configuration.quiet_hours_end,
        timezone.get_current_timezone(),
    )
    if allowed != now:
        return PaceRun(0, allowed if _waiting.exists() else None)
    admitted = 0
    if rate <= 0:
        # Pacing was turned off: whatever waits goes now.
        with transaction.atomic():
            waiting = _waiting.order_by("leaves_at", "pk").values_list("pk", flat=True)
            ids = _clear(list(waiting[:UNPACED_MAX]), now)
            enqueue.sms_batches(ids)
        admitted = len(ids)
    else:
        horizon = time_of(end(second_of(now), rate), rate)
        numbers = list(
            _waiting.filter(leaves_at__lt=horizon)
            .order_by()
            .values_list("from_number", flat=True)
            .distinct()[:PACE_MAX_NUMBERS]
        )
        for number in sorted(numbers):
            admitted += len(_admit_number(number, rate, now))
    first = _waiting.aggregate(first=Min("leaves_at"))["first"]
    if first is None:
        return PaceRun(admitted, None)
    next_second = _EPOCH + timedelta(seconds=second_of(now) + 1)
    return PaceRun(admitted, max(_EPOCH + timedelta(seconds=second_of(first)), next_second))


# --- what the preview and the progress page say ----------------------------------------------


def last_leaves_at(
    *,
    number: str,
    rate: int,
    start: datetime,
    sizes: Sequence[int],
    quiet: tuple[time | None, time | None] = (None, None),
) -> datetime | None:
    """When the last of texts of `sizes` (segments, in order) from `number` would leave if
    recorded at `start`, after what the number already has planned; None when pacing is off or
    no text goes. Quiet hours (`quiet`, the institution's window) stop the pacer, so a queue
    that runs into them ends the next morning (K6 over K7). 1 query (none for a number not
    known yet)."""
    if rate <= 0 or not sizes:
        return None
    row = (
        SenderPace.objects.filter(number=number).values_list("rate", "planned_slot").first()
        if number
        else None
    )
    planned = rescale(row[1], row[0], rate) if row else 0
    slots, _ = plan(planned, slot_of(start, rate), rate, sizes)
    return departure(start, time_of(slots[-1], rate), start, quiet)


def departure(
    first: datetime, last: datetime, now: datetime, quiet: tuple[time | None, time | None]
) -> datetime:
    """When the last of a number's waiting texts, planned from `first` to `last` ignoring quiet
    hours, leaves: the pacer sends them in order at the rate from `first` (or from `now`, when
    it is behind: a late pacer catches up at the rate), and stops while quiet hours (`quiet`)
    hold."""
    return quiet_hours.after_outside(
        max(first, now), last - first, quiet[0], quiet[1], timezone.get_current_timezone()
    )
