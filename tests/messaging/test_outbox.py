"""The outbox of emails to staff: reply notifications (C5) and administrators' alerts (T3) are
written with what calls for them, survive a broker outage, and are sent once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.test import Client, TestCase
from django.utils import timezone

from messaging import inbound, outbox, sending
from messaging import tasks as messaging_tasks
from messaging.models import Message, OutboxEmail, OutboxKind, OutboxStatus, Status
from tests.factories import UserFactory
from tests.sending_support import broker_down
from tests.twilio_bridge.webhook_client import (
    INBOUND_PATH,
    STATUS_PATH,
    World,
    inbound_params,
    new_sid,
    signed_post,
    status_params,
)
from twilio_bridge import gateway

ADVISOR = "alex.advisor@example.edu"
OPS = "ops@example.edu"


@pytest.fixture
def world(db: Any) -> World:
    world = World()
    UserFactory(username="ops", is_staff=True, email=OPS)
    return world


def webhook(path: str, params: dict[str, str], **kw: Any) -> Any:
    client = Client(raise_request_exception=False)  # a server error shows as its 500
    return signed_post(client, path, params, **kw)


def reply_params(world: World, body: str = "See you then") -> dict[str, str]:
    return inbound_params(
        sid=new_sid(),
        from_number=world.cell.number,
        to_number=world.sender_number.number,
        body=body,
    )


def age_outbox(seconds: float = 3600) -> None:
    OutboxEmail.objects.update(updated_at=timezone.now() - timedelta(seconds=seconds))


def sweep() -> None:
    """Both beat sweeps, tasks running in-process (the broker is back)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        outbox.outbox_sweep()
        sending.messages_sweep(gateway=gateway.from_settings())


def sent_to(address: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to]


# --- a broker outage loses nothing (real commits, as in production) --------------------------


@pytest.mark.django_db(transaction=True)
def test_a_reply_while_the_broker_is_down_answers_200_and_is_notified_once_after(
    world: World,
) -> None:
    params = reply_params(world)

    with broker_down():
        response = webhook(INBOUND_PATH, params)

    assert response.status_code == 200, response.content
    message = Message.objects.get(twilio_sid=params["MessageSid"])
    [row] = OutboxEmail.objects.all()
    assert (row.payload, row.status) == ({"message_id": message.pk}, OutboxStatus.PENDING)
    assert mail.outbox == []
    # Twilio's retry of the same webhook is answered and adds nothing.
    assert webhook(INBOUND_PATH, params).status_code == 200
    assert OutboxEmail.objects.count() == 1
    # The broker is back: the next sweep sends it; later sweeps send nothing more.
    age_outbox()
    sweep()
    sweep()
    [email] = sent_to(ADVISOR)
    assert "See you then" in email.body
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)


@pytest.mark.django_db(transaction=True)
def test_a_sender_side_error_while_the_broker_is_down_alerts_the_administrators_after(
    world: World,
) -> None:
    text = world.outbound_text()

    with broker_down():
        response = webhook(STATUS_PATH, status_params(text.twilio_sid, "undelivered", 30007))

    assert response.status_code == 204, response.content
    [row] = OutboxEmail.objects.all()
    assert (row.kind, row.payload) == (
        OutboxKind.ADMINS_ALERT,
        {"code": 30007, "reason": "TWILIO_FILTERED"},
    )
    assert mail.outbox == []
    Message.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    age_outbox()
    sweep()
    sweep()
    [alert] = sent_to(OPS)
    assert "30007" in alert.subject
    # The student's email fallback went too, once.
    assert len(sent_to(world.student.email)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_notification_written_in_a_transaction_that_rolls_back_is_never_sent(
    world: World,
) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        inbound.message_inbound_receive(
            message_sid=new_sid(),
            from_number=world.cell.number,
            to_number=world.sender_number.number,
            body="See you then",
        )
        raise RuntimeError("the surrounding work failed")

    assert OutboxEmail.objects.count() == 0
    sweep()
    assert mail.outbox == []


# --- administrators' alerts: once an hour per code, no cache needed ---------------------------


def post_failure(world: World, code: int) -> Any:
    text = world.outbound_text()
    with TestCase.captureOnCommitCallbacks(execute=True):
        return webhook(STATUS_PATH, status_params(text.twilio_sid, "undelivered", code))


def test_the_alert_goes_out_when_the_cache_is_down(world: World, settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nobody listens there
        }
    }

    response = post_failure(world, 30034)

    assert response.status_code == 204
    assert len(sent_to(OPS)) == 1


def test_administrators_hear_of_a_code_at_most_once_an_hour(world: World) -> None:
    post_failure(world, 30034)
    post_failure(world, 30034)
    post_failure(world, 21408)

    assert sorted(OutboxEmail.objects.values_list("payload__code", flat=True)) == [21408, 30034]
    assert len(sent_to(OPS)) == 2
    # 59 minutes later it is not news yet; 61 minutes later it is again.
    with time_machine.travel(timezone.now() + timedelta(minutes=59)):
        post_failure(world, 30034)
    assert len(sent_to(OPS)) == 2
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        post_failure(world, 30034)
    assert len(sent_to(OPS)) == 3


def test_an_alert_with_no_administrator_to_tell_is_skipped(world: World) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.update(email="")

    post_failure(world, 30034)

    assert OutboxEmail.objects.get().status == OutboxStatus.SKIPPED
    assert mail.outbox == [m for m in mail.outbox if OPS not in m.to]


# --- each email once --------------------------------------------------------------------------


def pending_notification(world: World) -> OutboxEmail:
    with TestCase.captureOnCommitCallbacks(execute=False):
        webhook(INBOUND_PATH, reply_params(world))
    return OutboxEmail.objects.get()


def test_a_task_delivered_twice_sends_the_notification_once(world: World) -> None:
    row = pending_notification(world)

    first = messaging_tasks.send_outbox_email.apply(kwargs={"outbox_id": row.pk}).get()
    second = messaging_tasks.send_outbox_email.apply(kwargs={"outbox_id": row.pk}).get()

    assert (first, second) == (OutboxStatus.SENT, OutboxStatus.SENT)
    assert len(sent_to(ADVISOR)) == 1


def test_the_sweep_leaves_a_fresh_notification_to_its_task(world: World) -> None:
    row = pending_notification(world)
    age_outbox(30)

    assert outbox.outbox_sweep() == {"requeued": 0, "failed": 0}
    age_outbox(61)
    assert outbox.outbox_sweep() == {"requeued": 1, "failed": 0}

    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert len(sent_to(ADVISOR)) == 1


def test_a_notification_left_sending_by_a_dead_worker_is_sent_again_then_given_up(
    world: World,
) -> None:
    row = pending_notification(world)
    # A worker claimed it and died before recording the answer: the outcome is unknown.
    OutboxEmail.objects.filter(pk=row.pk).update(status=OutboxStatus.SENDING, attempts=1)
    age_outbox(60)
    assert outbox.outbox_sweep()["requeued"] == 0  # it may still be on its way

    age_outbox()
    outbox.outbox_sweep()

    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)
    assert len(sent_to(ADVISOR)) == 1
    # Its last attempt dies too: no more emails; it is failed (and logged).
    OutboxEmail.objects.filter(pk=row.pk).update(
        status=OutboxStatus.SENDING, attempts=outbox.MAX_ATTEMPTS
    )
    age_outbox()
    assert outbox.outbox_sweep() == {"requeued": 0, "failed": 1}
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED
    assert len(sent_to(ADVISOR)) == 1


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise OSError("SMTP server unreachable")


def test_a_notification_the_mail_server_refused_is_retried_by_the_sweep(
    world: World, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "tests.messaging.test_outbox.BrokenBackend"
    with TestCase.captureOnCommitCallbacks(execute=True):
        webhook(INBOUND_PATH, reply_params(world))
    row = OutboxEmail.objects.get()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    age_outbox(61)
    assert outbox.outbox_sweep()["requeued"] == 0  # not before SMS_STUCK_AFTER_SECONDS

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    age_outbox()
    outbox.outbox_sweep()

    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)
    assert len(sent_to(ADVISOR)) == 1


def test_a_text_to_a_staff_member_without_an_address_is_skipped(world: World) -> None:
    world.advisor.email = ""
    world.advisor.save()

    with TestCase.captureOnCommitCallbacks(execute=True):
        webhook(INBOUND_PATH, reply_params(world))

    assert OutboxEmail.objects.get().status == OutboxStatus.SKIPPED
    assert mail.outbox == []
    assert Message.objects.filter(status=Status.RECEIVED).count() == 1
