"""The sweep finds, within a minute, messages whose task was never published (a broker outage)
or was lost, and publishes them again without sending anything twice; a text waiting for its
backoff or its scheduled retry is left alone until its time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from celery import current_app
from django.conf import settings
from django.core import mail
from django.utils import timezone

from messaging import sending, services
from messaging.models import Channel, Message, Status
from people.models import SmsStatus
from tests.sending_support import pool_numbers, student_with_phone
from twilio_bridge import gateway
from twilio_bridge.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("config", "policy")


def recorded_never_published(capture: Any, advisor: Any, student: Any) -> tuple[Message, Any]:
    """A message recorded whose on-commit publish never reached a worker; returns it and the
    publish, to run late if the test wants."""
    with capture(execute=False) as publishes:
        message = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
    return message, publishes


def age(message: Message, seconds: float) -> None:
    Message.objects.filter(pk=message.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


def sweep() -> dict[str, int]:
    return sending.messages_sweep(gateway=gateway.from_settings())


def test_the_sweep_runs_every_minute() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-stuck-messages"]

    assert entry["schedule"] == 60
    assert entry["task"] in current_app.tasks


def test_a_text_never_published_is_sent_by_the_sweep_once_it_is_a_minute_old(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, phone = student_with_phone()
    text, publishes = recorded_never_published(django_capture_on_commit_callbacks, advisor, student)
    age(text, 30)

    assert sweep()["requeued"] == 0  # its task may still be on its way
    age(text, 61)
    assert sweep()["requeued"] == 1
    # The publish that was late after all, and the next sweep, send nothing again.
    for publish in publishes:
        publish()
    assert sweep()["requeued"] == 0

    text.refresh_from_db()
    assert text.status == Status.SENT
    assert [c["form"]["To"] for c in sandbox.creates()] == [phone.number]


def test_an_email_never_published_is_sent_by_the_sweep_once_it_is_a_minute_old(
    advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    student, _ = student_with_phone(sms_status=SmsStatus.DISABLED, email="lee@example.edu")
    message, publishes = recorded_never_published(
        django_capture_on_commit_callbacks, advisor, student
    )
    assert message.channel == Channel.EMAIL
    age(message, 61)

    sweep()

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert [m.to for m in mail.outbox] == [["lee@example.edu"]]
    # The publish that was late after all, and the next sweep, send nothing again.
    for publish in publishes:
        publish()
    sweep()
    assert len(mail.outbox) == 1


def test_a_text_waiting_for_its_backoff_is_left_to_its_own_task_until_it_is_stuck(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    text, _ = recorded_never_published(django_capture_on_commit_callbacks, advisor, student)
    # Its first attempt was throttled: back in `queued`, its task holds a countdown.
    assert services.message_sms_claim(message_id=text.pk) is not None
    assert services.message_sms_requeue(message_id=text.pk)
    age(text, 90)

    assert sweep()["requeued"] == 0
    age(text, settings.SMS_STUCK_AFTER_SECONDS + 1)
    assert sweep()["requeued"] == 1

    text.refresh_from_db()
    assert (text.status, text.attempts) == (Status.SENT, 2)


def test_a_scheduled_retry_is_not_sent_before_its_time_however_old_its_row(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    text, _ = recorded_never_published(django_capture_on_commit_callbacks, advisor, student)
    Message.objects.filter(pk=text.pk).update(not_before=timezone.now() + timedelta(minutes=10))
    age(text, 3600)

    assert sweep()["requeued"] == 0

    text.refresh_from_db()
    assert (text.status, text.attempts) == (Status.QUEUED, 0)
    assert sandbox.creates() == []
    Message.objects.filter(pk=text.pk).update(not_before=timezone.now() - timedelta(seconds=1))
    assert sweep()["requeued"] == 1
    text.refresh_from_db()
    assert text.status == Status.SENT
