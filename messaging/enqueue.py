"""Every task messaging hands to the workers, published when the caller's transaction commits.

Tasks are addressed by their registered names (the names Celery puts on the wire), so messaging
imports no task module: the SMS send tasks live in twilio_bridge.tasks (they pass the Twilio
gateway to messaging.sending), the email and notification tasks in messaging.tasks. With no
broker (the embedded default, tests) Celery runs them in-process once the transaction commits.

Tests that want to see what would be published replace these functions (monkeypatch), not the
services' internals.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from celery import current_app
from django.db import transaction

from messaging import send_queue

logger = logging.getLogger(__name__)

SEND_SMS = "twilio_bridge.tasks.send_sms"
SEND_SMS_BATCH = "twilio_bridge.tasks.send_sms_batch"
DRAIN_SMS = "twilio_bridge.tasks.drain_sms"
DELIVER_EMAIL = "messaging.tasks.deliver_email"
DELIVER_EMAILS = "messaging.tasks.deliver_emails"
NOTIFY_REPLY = "messaging.tasks.notify_reply"
ALERT_ADMINS = "messaging.tasks.alert_admins"

# A cohort's messages go to the worker this many to a task (send_sms_batch, deliver_emails): one
# read of the texts, one routing query and one configuration read serve a batch, and the request
# publishes one task per batch, not per message.
TASK_BATCH_SIZE = 50


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


def _publish(name: str, after_commit: bool, **kwargs: Any) -> None:
    task = _task(name)
    if after_commit:
        task.delay_on_commit(**kwargs)
    else:
        task.delay(**kwargs)


def sms(message_id: int, *, after_commit: bool = True) -> None:
    """One text to send (a single send, a sweep's re-queue, a retry that came due).
    `after_commit=False` publishes at once (the sweep, which records nothing around it).

    With a broker, the text joins the waiting list the worker drains in batches
    (messaging.send_queue); in-process, it is its own task."""
    if current_app.conf.task_always_eager:
        _publish(SEND_SMS, after_commit, message_id=message_id)
        return

    def queue() -> None:
        try:
            if send_queue.push(message_id):
                drain()
        except Exception:
            # Redis is unreachable: the text is recorded and waits in `queued` for the sweep.
            logger.warning("Text %s not queued; the sweep will", message_id, exc_info=True)

    if after_commit:
        transaction.on_commit(queue)
    else:
        queue()


def drain() -> None:
    """Publish a drain of the single texts waiting (messaging.send_queue)."""
    _task(DRAIN_SMS).delay()


def sms_batches(message_ids: Sequence[int]) -> None:
    for chunk in batches(message_ids, TASK_BATCH_SIZE):
        _task(SEND_SMS_BATCH).delay_on_commit(message_ids=chunk)


def email(message_id: int, *, after_commit: bool = True) -> None:
    _publish(DELIVER_EMAIL, after_commit, message_id=message_id)


def email_batches(message_ids: Sequence[int]) -> None:
    for chunk in batches(message_ids, TASK_BATCH_SIZE):
        _task(DELIVER_EMAILS).delay_on_commit(message_ids=chunk)


def reply_notification(message_id: int) -> None:
    _task(NOTIFY_REPLY).delay_on_commit(message_id=message_id)


def admins_alert(*, code: int | None, reason: str) -> None:
    _task(ALERT_ADMINS).delay_on_commit(code=code, reason=reason)
