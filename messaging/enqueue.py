"""Every task messaging hands to the workers, published when the caller's transaction commits.

Tasks are addressed by their registered names (the names Celery puts on the wire), so messaging
imports no task module: the SMS send tasks live in twilio_bridge.tasks (they pass the Twilio
gateway to messaging.sending), the email and outbox tasks in messaging.tasks. With no broker
(the embedded default, tests) Celery runs them in-process once the transaction commits.

Publishing never fails the caller. What a task would do is already recorded (a `queued` message,
a `pending` outbox email) when the task is published, so a broker that cannot be reached (Redis
down) is logged and the work waits for the sweep, which publishes it again; the request that
recorded it still succeeds. After a failed publish, the next `PAUSE_AFTER_FAILURE` seconds of
publishes in this process are skipped, so a cohort's hundreds of tasks do not each wait for
the broker's connection retries (about 0.7 s each).

Tests that want to see what would be published replace these functions (monkeypatch), not the
services' internals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone

from messaging import send_queue

logger = logging.getLogger(__name__)

SEND_SMS = "twilio_bridge.tasks.send_sms"
SEND_SMS_BATCH = "twilio_bridge.tasks.send_sms_batch"
DRAIN_SMS = "twilio_bridge.tasks.drain_sms"
DELIVER_EMAIL = "messaging.tasks.deliver_email"
DELIVER_EMAILS = "messaging.tasks.deliver_emails"
SEND_OUTBOX_EMAIL = "messaging.tasks.send_outbox_email"
PACE_SENDERS = "messaging.tasks.pace_senders"

# A cohort's messages go to the worker this many to a task (send_sms_batch, deliver_emails): one
# read of the texts, one routing query and one configuration read serve a batch, and the request
# publishes one task per batch, not per message.
TASK_BATCH_SIZE = 50

# Seconds during which publishes are skipped after one failed (the sweep publishes them later).
PAUSE_AFTER_FAILURE = 5.0
_paused_until = 0.0


def _task(name: str) -> Any:
    # KeyError here means the task module was not imported (each app's tasks load at start-up).
    return current_app.tasks[name]


def batches(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    batch: list[int] = []
    for pk in ids:
        batch.append(pk)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _send(name: str, kwargs: dict[str, Any], countdown: float | None = None) -> None:
    """Hand one task to the broker now; a broker that cannot be reached is logged, not raised."""
    global _paused_until
    task = _task(name)
    if task.app.conf.task_always_eager:
        # In-process (embedded, tests): no broker to lose; a task's own error is a bug to see.
        task.apply_async(kwargs=kwargs)
        return
    if time.monotonic() < _paused_until:
        logger.warning("Broker unavailable: task %s %s left for the sweep", name, kwargs)
        return
    try:
        task.apply_async(kwargs=kwargs, countdown=countdown)
    except Exception:
        # Kombu's OperationalError (connection refused, timeout) or anything the transport
        # raises: the work is recorded and the sweep publishes it again.
        _paused_until = time.monotonic() + PAUSE_AFTER_FAILURE
        logger.exception("Task %s %s not published; the sweep will publish it", name, kwargs)


def _publish(name: str, after_commit: bool, **kwargs: Any) -> None:
    if after_commit:
        # `_send` does not raise (outside eager mode), so the transaction's other callbacks run.
        transaction.on_commit(partial(_send, name, kwargs))
    else:
        _send(name, kwargs)


def sms(message_id: int, *, after_commit: bool = True) -> None:
    """One text to send (a single send, a retry that came due).
    `after_commit=False` publishes at once (the sweep, which records nothing around it).

    With a broker, the text joins the waiting list the worker drains in batches
    (messaging.send_queue); in-process, it is its own task."""
    if current_app.conf.task_always_eager:
        _publish(SEND_SMS, after_commit, message_id=message_id)
        return

    def queue() -> None:
        try:
            fresh = send_queue.push(message_id)
        except Exception:
            # Redis is unreachable: the text is recorded and waits in `queued` for the sweep.
            logger.warning("Text %s not queued; the sweep will", message_id, exc_info=True)
            return
        if fresh:
            drain()

    if after_commit:
        transaction.on_commit(queue)
    else:
        queue()


def drain() -> None:
    """Publish a drain of the single texts waiting (messaging.send_queue)."""
    _send(DRAIN_SMS, {})


def sms_batches(message_ids: Sequence[int], *, after_commit: bool = True) -> None:
    for chunk in batches(message_ids, TASK_BATCH_SIZE):
        _publish(SEND_SMS_BATCH, after_commit, message_ids=chunk)


def email(message_id: int, *, after_commit: bool = True) -> None:
    _publish(DELIVER_EMAIL, after_commit, message_id=message_id)


def email_batches(message_ids: Sequence[int], *, after_commit: bool = True) -> None:
    for chunk in batches(message_ids, TASK_BATCH_SIZE):
        _publish(DELIVER_EMAILS, after_commit, message_ids=chunk)


def outbox_email(outbox_id: int, *, after_commit: bool = True) -> None:
    """A reply notification or administrators' alert to send (messaging.outbox)."""
    _publish(SEND_OUTBOX_EMAIL, after_commit, outbox_id=outbox_id)


# The pacer's countdown is kept short (far below the broker's visibility timeout): it runs again
# at least this often while texts wait, whatever their slots.
PACE_MAX_COUNTDOWN = 5.0


def pace(at: datetime, *, after_commit: bool = True) -> None:
    """Wake the pacer (messaging.pacing) at `at` (at most `PACE_MAX_COUNTDOWN` seconds ahead),
    unless a wake is pending already (one chain, however many sends ask). In-process (the
    embedded default, tests) nothing is published: a countdown cannot be held there, and the
    release loop (or the test) runs the pacer instead."""
    if current_app.conf.task_always_eager:
        return

    def wake() -> None:
        delay = min(PACE_MAX_COUNTDOWN, max(0.0, (at - timezone.now()).total_seconds()))
        try:
            fresh = send_queue.pace_wake_claim(delay)
        except Exception:
            # Redis is unreachable: the minute beat job runs the pacer.
            logger.warning("Pacer not woken; the beat job will run it", exc_info=True)
            return
        if fresh:
            _send(PACE_SENDERS, {}, countdown=delay)

    if after_commit:
        transaction.on_commit(wake)
    else:
        wake()
