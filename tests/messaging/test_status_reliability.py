"""A failure callback's consequences survive crashes and lost tasks (S6, T2, T3): the status,
the policy and the queued email fallback commit together; the email is sent by a task after
commit, once, and the sweep picks up an email whose task was lost or whose worker died."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import sending, services, status
from messaging import tasks as messaging_tasks
from messaging.models import Channel, Message, Status
from people.models import SmsStatus
from tests.twilio_bridge.webhook_client import STATUS_PATH, World, signed_post, status_params
from twilio_bridge import gateway

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: Any) -> World:
    return World()


def post_failure(sid: str, code: int = 30005) -> Any:
    return signed_post(Client(), STATUS_PATH, status_params(sid, "undelivered", code))


def age(message: Message, seconds: int = 3600) -> None:
    Message.objects.filter(pk=message.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_a_failure_callback_queues_the_fallback_and_sends_no_email_inside_the_request(
    world: World,
) -> None:
    text = world.outbound_text()

    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        response = post_failure(text.twilio_sid)

    assert response.status_code == 204
    fallback = Message.objects.get(replaces=text)
    assert (fallback.channel, fallback.status) == (Channel.EMAIL, Status.QUEUED)
    assert mail.outbox == []
    assert len(queued) == 1

    queued[0]()

    fallback.refresh_from_db()
    assert fallback.status == Status.SENT
    assert [m.to for m in mail.outbox] == [[world.student.email]]


def test_a_crash_after_the_status_update_rolls_back_so_twilios_retry_applies_t3_in_full(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = world.outbound_text()

    def die(**kwargs: Any) -> Message:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "message_email_fallback", die)
    with pytest.raises(RuntimeError):
        status.message_status_apply(
            message_sid=text.twilio_sid, twilio_status="undelivered", error_code=30005
        )
    text.refresh_from_db()
    world.cell.refresh_from_db()
    assert text.status == Status.SENT
    assert world.cell.sms_status == SmsStatus.ENABLED
    monkeypatch.undo()

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = post_failure(text.twilio_sid)

    assert response.status_code == 204
    text.refresh_from_db()
    world.cell.refresh_from_db()
    assert (text.status, text.failure_reason) == (Status.UNDELIVERED, "TWILIO_UNKNOWN_HANDSET")
    assert world.cell.sms_status == SmsStatus.DISABLED
    assert Message.objects.get(replaces=text).status == Status.SENT
    assert len(mail.outbox) == 1


def test_a_delivered_callback_is_one_update_without_a_transaction(world: World) -> None:
    text = world.outbound_text()

    with CaptureQueriesContext(connection) as queries:
        status.message_status_apply(message_sid=text.twilio_sid, twilio_status="delivered")

    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE"]


def test_the_sweep_sends_a_fallback_whose_task_was_lost(world: World, settings: Any) -> None:
    text = world.outbound_text()
    with TestCase.captureOnCommitCallbacks(execute=False):
        post_failure(text.twilio_sid)
    fallback = Message.objects.get(replaces=text)
    age(fallback)

    with TestCase.captureOnCommitCallbacks(execute=True):
        counts = sending.messages_sweep(gateway=gateway.from_settings())

    fallback.refresh_from_db()
    assert counts["requeued"] == 1
    assert fallback.status == Status.SENT
    assert len(mail.outbox) == 1


def test_an_email_left_sending_by_a_dead_worker_is_sent_again_once_then_failed(
    world: World,
) -> None:
    text = world.outbound_text()
    with TestCase.captureOnCommitCallbacks(execute=False):
        post_failure(text.twilio_sid)
    fallback = Message.objects.get(replaces=text)
    # A worker claimed it and died before recording the answer.
    Message.objects.filter(pk=fallback.pk).update(status=Status.SENDING, attempts=1)
    age(fallback)

    sending.messages_sweep(gateway=gateway.from_settings())

    fallback.refresh_from_db()
    assert (fallback.status, fallback.attempts) == (Status.SENT, 2)
    assert len(mail.outbox) == 1
    # Its second attempt dies too: the outcome is unknown again; no third email.
    Message.objects.filter(pk=fallback.pk).update(status=Status.SENDING)
    age(fallback)

    sending.messages_sweep(gateway=gateway.from_settings())

    fallback.refresh_from_db()
    assert fallback.status == Status.FAILED
    assert len(mail.outbox) == 1


def test_a_recent_email_in_sending_is_left_alone_by_the_sweep(world: World) -> None:
    text = world.outbound_text()
    with TestCase.captureOnCommitCallbacks(execute=False):
        post_failure(text.twilio_sid)
    fallback = Message.objects.get(replaces=text)
    Message.objects.filter(pk=fallback.pk).update(status=Status.SENDING, attempts=1)

    sending.messages_sweep(gateway=gateway.from_settings())

    fallback.refresh_from_db()
    assert fallback.status == Status.SENDING
    assert mail.outbox == []


def test_a_redelivered_email_task_sends_the_fallback_once(world: World) -> None:
    text = world.outbound_text()
    with TestCase.captureOnCommitCallbacks(execute=False):
        post_failure(text.twilio_sid)
    fallback = Message.objects.get(replaces=text)

    messaging_tasks.deliver_email.delay(message_id=fallback.pk)
    messaging_tasks.deliver_email.delay(message_id=fallback.pk)

    assert len(mail.outbox) == 1


def test_an_smtp_error_puts_the_email_back_for_the_sweep_then_fails_it(
    world: World, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "tests.messaging.test_status_reliability.BrokenBackend"
    text = world.outbound_text()
    with TestCase.captureOnCommitCallbacks(execute=True):
        post_failure(text.twilio_sid)
    fallback = Message.objects.get(replaces=text)
    assert (fallback.status, fallback.attempts) == (Status.QUEUED, 1)
    age(fallback)

    sending.messages_sweep(gateway=gateway.from_settings())

    fallback.refresh_from_db()
    assert (fallback.status, fallback.attempts) == (Status.FAILED, 2)


class BrokenBackend:
    def __init__(self, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise OSError("SMTP server unreachable")
