"""Celery task shims of the Twilio bridge: each passes the Twilio gateway to one function of
messaging.sending, which owns sending (S6), and holds the retry policy.

Idempotency lives in the data (the queued -> sending claim), so at-least-once delivery of a task
never sends a text twice. The task names are the ones messaging.enqueue publishes.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from celery import shared_task
from celery.signals import worker_process_shutdown

from messaging import enqueue, sending
from twilio_bridge import gateway

logger = logging.getLogger(__name__)


@worker_process_shutdown.connect
def _lanes_stop(**_: Any) -> None:
    """A worker process ending closes its helper lanes' database connections."""
    sending.lanes_stop()


@shared_task(bind=True, acks_late=True, max_retries=sending.MAX_ATTEMPTS + 2, name=enqueue.SEND_SMS)
def send_sms(self: Any, *, message_id: int) -> str:
    outcome = sending.sms_send(message_id=message_id, gateway=gateway.from_settings())
    while outcome.retry_in is not None:
        if not self.request.is_eager:
            # Back to the broker with an exponential countdown; the text waits in `queued`.
            raise self.retry(countdown=outcome.retry_in, kwargs={"message_id": message_id})
        # In-process (embedded mode, tests) there is no broker to hold a countdown and Celery's
        # eager retry cannot propagate: try again at once; the attempt cap still applies.
        outcome = sending.sms_send(message_id=message_id, gateway=gateway.from_settings())
    return outcome.kind


@shared_task(bind=True, acks_late=True, name=enqueue.SEND_SMS_BATCH)
def send_sms_batch(self: Any, *, message_ids: list[int]) -> dict[str, int]:
    """A cohort's texts, a batch per task. A text Twilio could not take now (429, 5xx, no
    connection) goes on alone as a `send_sms` task with its backoff countdown."""

    outcomes = sending.sms_send_batch(
        message_ids=message_ids, gateway=gateway.from_settings(), on_retry=_retry_alone
    )
    return dict(Counter(outcome.kind for outcome in outcomes.values()))


@shared_task(bind=True, acks_late=True, name=enqueue.DRAIN_SMS)
def drain_sms(self: Any) -> dict[str, int]:
    """The single texts waiting, in batches (messaging.send_queue)."""
    outcomes = sending.sms_drain(
        holder=str(self.request.id), gateway=gateway.from_settings(), on_retry=_retry_alone
    )
    return dict(Counter(outcome.kind for outcome in outcomes.values()))


def _retry_alone(message_id: int, seconds: float) -> None:
    """A text Twilio could not take now goes on alone with its backoff countdown."""
    try:
        send_sms.apply_async(kwargs={"message_id": message_id}, countdown=seconds)
    except Exception:
        # The broker did not take it: the text waits in `queued` for the sweep; the rest of the
        # batch goes on.
        logger.warning("Retry of text %s not queued; the sweep will", message_id, exc_info=True)


@shared_task
def sweep_stuck_messages() -> dict[str, int]:
    return sending.messages_sweep(gateway=gateway.from_settings())
