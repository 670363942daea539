"""Single texts waiting for the worker, so that it takes them in batches when they come faster
than it sends them.

A cohort's texts reach the worker 50 to a task. A text sent on its own used to be one task:
one publish per request, and per text a task's overhead and its own reads of the configuration
and the recipient. Now a single send pushes its id onto a Redis list and publishes a drain task
only when none is pending (a flag set with NX); the drain takes the list 50 ids at a time and
sends each batch like a cohort's (`messaging.sending.sms_send_batch`: the per-text claim keeps a
killed worker from sending anything twice). With one text now and then, a drain sends that text
at once; under a burst, one drain sends the burst in batches.

Ordering that loses nothing: the drain clears the flag BEFORE it reads the list, and a send
pushes its id BEFORE it sets the flag; so an id pushed after the drain's last read finds the flag
clear and publishes a new drain. A drain moves the ids it takes to a list of its own (keyed by
its task id) and empties that list only when the batch is done: a drain killed mid-batch is
redelivered with the same task id and sends the rest of its batch first, once each.

A drain that finds the list empty lingers (`LINGER_SECONDS`) before it ends: it takes the flag
again (so sends meanwhile publish no drain) and waits on the list; a text pushed then is sent
by it at once. Only when the wait ends with nothing does it clear the flag, then read the list
once more (an id pushed before the flag was cleared is taken; one pushed after publishes a new
drain). Under a steady stream of single sends one drain task serves them all, instead of one
task published and run per text. A drain killed while it holds the flag delays the next drain
until the flag expires (`DRAIN_FLAG_SECONDS`), as a lost drain task always did; the sweep
publishes texts left waiting.

Round trips to Redis: a drain starts with four (the flag cleared, its own list checked for an
unfinished batch, the first ids taken, the backlog checked); then each batch costs one (the
batch done and the next ids taken, `take_next`), and each wait one (the blocking move and the
move of the rest sent together). Under a steady stream of single texts: one or two a text.

Only with a Redis broker; with tasks in-process (the embedded default, tests) a single send is
its own task (messaging.enqueue).
"""

from __future__ import annotations

import threading
from typing import Any

import redis
from django.conf import settings

PENDING = "sms:single-sends"
DRAIN_FLAG = "sms:single-sends:drain-pending"
# A drain that never ran (its task lost) stops blocking new drains after this long; the sweep
# re-queues its texts anyway.
DRAIN_FLAG_SECONDS = 60

_local = threading.local()


# Add the id, then set the flag when no drain is pending: "OK" when it was set, nil otherwise.
_PUSH = """
redis.call('RPUSH', KEYS[1], ARGV[1])
return redis.call('SET', KEYS[2], 1, 'NX', 'EX', tonumber(ARGV[2]))
"""


def _connected() -> tuple[tuple[str, float], Any, Any]:
    url, timeout = settings.CELERY_BROKER_URL, settings.REDIS_SOCKET_TIMEOUT_SECONDS
    cached = getattr(_local, "client", None)
    if cached is None or cached[0] != (url, timeout):
        # No automatic retries (redis-py's default): a script whose answer was lost must not
        # run twice (`take_next` would clear the batch the first run took).
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        cached = ((url, timeout), client, client.register_script(_PUSH))
        _local.client = cached
    return cached


def _redis() -> Any:
    return _connected()[1]


def push(message_id: int) -> bool:
    """Add a text to the waiting list; True when the caller must publish a drain (none was
    pending). One command (a script: the id pushed before the flag, as the module's note needs)."""
    _, _, script = _connected()
    return bool(script(keys=[PENDING, DRAIN_FLAG], args=[message_id, DRAIN_FLAG_SECONDS]))


# How long a drain that found the list empty waits for the next text before it ends.
LINGER_SECONDS = 0.5


def hold() -> bool:
    """Take the flag for a lingering drain; False when another drain is pending (it reads the
    list: this one may end)."""
    return bool(_redis().set(DRAIN_FLAG, 1, nx=True, ex=DRAIN_FLAG_SECONDS))


def wait(count: int, *, holder: str, seconds: float) -> list[int]:
    """Up to `count` ids for the drain `holder` as soon as one is waiting, within `seconds`
    ([] when none came): moved to its own list like `take`'s. The caller holds the flag.
    One round trip: the blocking move and the move of the rest go together (Redis runs the
    second once the first returns)."""
    own = _taken_key(holder)
    pipeline = _redis().pipeline(transaction=False)
    pipeline.blmove(PENDING, own, seconds, "LEFT", "RIGHT")
    if count > 1:
        pipeline.eval(_TAKE, 2, PENDING, own, count - 1, TAKEN_KEEP_SECONDS)
    try:
        first, *rest = pipeline.execute()
    except redis.TimeoutError:
        # The client's socket timeout came first: Redis stalled for longer than the socket
        # timeout less the wait. What it moved before the drain's next `take` is resumed by it;
        # what it moved after (it may still run the queued commands) waits in the drain's own
        # list, its texts `queued`, for the sweep.
        return []
    ids = [first] if first is not None else []
    for more in rest:
        ids += more or []
    return [int(pk) for pk in ids]


def drain_started() -> None:
    """A drain is running: a send from now on publishes another (see the module's note)."""
    _redis().delete(DRAIN_FLAG)


# Move up to ARGV[1] ids from the head of the waiting list to the drain's own list, atomically.
_TAKE = """
local ids = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #ids > 0 then
  redis.call('LTRIM', KEYS[1], #ids, -1)
  redis.call('RPUSH', KEYS[2], unpack(ids))
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
end
return ids
"""
# A drain's own list outlives any redelivery; then the sweep has long re-queued its texts.
TAKEN_KEEP_SECONDS = 86400


def _taken_key(holder: str) -> str:
    return f"{PENDING}:taken:{holder}"


def take(count: int, *, holder: str) -> list[int]:
    """Up to `count` ids for the drain `holder`: first those it took before and did not finish
    (it was killed and redelivered), else the oldest waiting ones. Call `done` after the batch."""
    client = _redis()
    unfinished = client.lrange(_taken_key(holder), 0, -1)
    if unfinished:
        return [int(pk) for pk in unfinished]
    taken = client.eval(_TAKE, 2, PENDING, _taken_key(holder), count, TAKEN_KEEP_SECONDS)
    return [int(pk) for pk in taken or []]


# The drain's finished batch cleared, then `_TAKE`: one script, one round trip.
_NEXT = "redis.call('DEL', KEYS[2])\n" + _TAKE


def take_next(count: int, *, holder: str) -> list[int]:
    """The drain `holder` finished the batch it took (as `done`) and takes up to `count` more
    (as `take`; it has no unfinished batch to resume): one round trip instead of three."""
    taken = _redis().eval(_NEXT, 2, PENDING, _taken_key(holder), count, TAKEN_KEEP_SECONDS)
    return [int(pk) for pk in taken or []]


def done(*, holder: str) -> None:
    """The drain `holder` finished the batch it took."""
    _redis().delete(_taken_key(holder))


def waiting() -> int:
    return int(_redis().llen(PENDING))


# The pacer's wake (messaging.enqueue.pace): set with NX while a pacer task is pending, so sends
# and the pacer's own re-publishing make one chain, not one per send. It expires shortly after
# the countdown, so a lost task blocks no wake for long (the beat job runs the pacer anyway).
PACE_FLAG = "sms:pacer:wake-pending"
PACE_FLAG_GRACE_SECONDS = 10


def pace_wake_claim(delay: float) -> bool:
    """True when no pacer task is pending: the caller publishes one. One round trip."""
    seconds = int(delay) + PACE_FLAG_GRACE_SECONDS
    return bool(_redis().set(PACE_FLAG, 1, nx=True, ex=seconds))


def pace_started() -> None:
    """A pacer task is running: the next wake publishes another."""
    _redis().delete(PACE_FLAG)
