"""T3 "retry later" codes (30003, 30008) reported by a status callback: new attempts after a
backoff kept in the database (`not_before`, picked up by the sweep), each its own message, then
the email fallback with TWILIO_UNREACHABLE."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from messaging import sending, services, status
from messaging.models import Channel, FailureReason, Message, Status
from people import services as people_services
from people.models import SmsStatus, StatusCause
from sms_admin import pool
from sms_admin.models import MonthlyUsage
from tests.sending_support import pool_numbers, student_with_phone
from twilio_bridge import gateway
from twilio_bridge.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("config", "policy")


def month_sent() -> int:
    year, month = pool.month_key()
    row = MonthlyUsage.objects.filter(year=year, month=month).first()
    return row.sent if row else 0


def sent_text(advisor: Any, email: str = "sam@example.edu") -> Message:
    pool_numbers(1)
    student, _ = student_with_phone(email=email)
    with TestCase.captureOnCommitCallbacks(execute=True):
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="See you")
    text.refresh_from_db()
    assert text.status == Status.SENT
    return text


def fail(text: Message, code: int = 30003) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        status.message_status_apply(
            message_sid=text.twilio_sid or "",
            token=text.token,
            twilio_status="undelivered",
            error_code=code,
        )


def sweep_when_due(retry: Message) -> Message:
    Message.objects.filter(pk=retry.pk).update(not_before=timezone.now() - timedelta(seconds=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        sending.messages_sweep(gateway=gateway.from_settings())
    retry.refresh_from_db()
    return retry


@pytest.mark.parametrize("code", [30003, 30008])
def test_an_unreachable_callback_schedules_a_new_attempt_after_a_backoff_not_an_email(
    advisor: Any, sandbox: Sandbox, code: int
) -> None:
    text = sent_text(advisor)
    before = timezone.now()

    fail(text, code)

    text.refresh_from_db()
    assert (text.status, text.failure_reason) == (Status.UNDELIVERED, "TWILIO_UNREACHABLE")
    retry = Message.objects.get(retry_of=text)
    assert (retry.channel, retry.status, retry.body) == (Channel.SMS, Status.QUEUED, text.body)
    assert retry.token != text.token and retry.twilio_sid is None
    assert retry.not_before is not None
    assert timedelta(minutes=15) <= retry.not_before - before < timedelta(minutes=16)
    assert not Message.objects.filter(replaces=text).exists()
    assert mail.outbox == []
    assert month_sent() == 2
    assert len(sandbox.creates()) == 1


def test_the_sweep_sends_a_retry_only_once_it_is_due_and_once(
    advisor: Any, sandbox: Sandbox, settings: Any
) -> None:
    settings.SMS_STUCK_AFTER_SECONDS = 0
    text = sent_text(advisor)
    fail(text)
    retry = Message.objects.get(retry_of=text)

    with TestCase.captureOnCommitCallbacks(execute=True):
        sending.messages_sweep(gateway=gateway.from_settings())
    assert len(sandbox.creates()) == 1
    retry = sweep_when_due(retry)
    with TestCase.captureOnCommitCallbacks(execute=True):
        sending.messages_sweep(gateway=gateway.from_settings())

    assert retry.status == Status.SENT
    assert retry.twilio_sid not in (None, text.twilio_sid)
    creates = sandbox.creates()
    assert len(creates) == 2
    assert f"token={retry.token}" in creates[1]["form"]["StatusCallback"]


def test_a_send_task_for_a_retry_that_is_not_due_sends_nothing(
    advisor: Any, sandbox: Sandbox
) -> None:
    text = sent_text(advisor)
    fail(text)
    retry = Message.objects.get(retry_of=text)

    outcome = sending.sms_send(gateway=gateway.from_settings(), message_id=retry.pk)

    assert outcome.kind == "skipped"
    assert len(sandbox.creates()) == 1


def test_after_the_configured_retries_the_student_gets_one_email_with_unreachable(
    advisor: Any, sandbox: Sandbox
) -> None:
    text = sent_text(advisor)
    fail(text)
    first = sweep_when_due(Message.objects.get(retry_of=text))
    fail(first)
    second = Message.objects.get(retry_of=first)
    assert second.not_before is not None
    assert timedelta(minutes=59) < second.not_before - timezone.now() <= timedelta(minutes=60)
    second = sweep_when_due(second)

    fail(second, 30008)

    assert not Message.objects.filter(retry_of=second).exists()
    fallback = Message.objects.get(replaces=second)
    assert (fallback.channel, fallback.status) == (Channel.EMAIL, Status.SENT)
    assert fallback.failure_reason == FailureReason.TWILIO_UNREACHABLE
    assert [m.to for m in mail.outbox] == [["sam@example.edu"]]
    assert len(sandbox.creates()) == 3
    assert month_sent() == 3


def test_a_late_callback_of_the_first_attempt_never_touches_the_retry(
    advisor: Any, sandbox: Sandbox
) -> None:
    text = sent_text(advisor)
    fail(text)
    retry = sweep_when_due(Message.objects.get(retry_of=text))

    fail(text)
    status.message_status_apply(
        message_sid=text.twilio_sid or "", token=text.token, twilio_status="delivered"
    )

    retry.refresh_from_db()
    assert retry.status == Status.SENT
    assert Message.objects.filter(retry_of=text).count() == 1
    assert not Message.objects.filter(retry_of=retry).exists()


def test_a_retry_is_routed_again_and_goes_by_email_when_the_phone_was_disabled_meanwhile(
    advisor: Any, sandbox: Sandbox
) -> None:
    text = sent_text(advisor)
    fail(text)
    assert text.phone is not None
    people_services.phone_status_set(
        phone=text.phone, status=SmsStatus.DISABLED, cause=StatusCause.OPT_OUT
    )

    retry = sweep_when_due(Message.objects.get(retry_of=text))

    assert (retry.status, retry.failure_reason) == (Status.FAILED, FailureReason.NO_SMS_PHONE)
    assert Message.objects.get(replaces=retry).status == Status.SENT
    assert len(mail.outbox) == 1
    assert len(sandbox.creates()) == 1
    assert month_sent() == 1


def test_at_the_monthly_limit_an_unreachable_text_falls_back_to_email_at_once(
    advisor: Any, sandbox: Sandbox, config: Any
) -> None:
    text = sent_text(advisor)
    config.sms_message_limit = 1
    config.save()

    fail(text)

    assert not Message.objects.filter(retry_of=text).exists()
    fallback = Message.objects.get(replaces=text)
    assert fallback.failure_reason == FailureReason.TWILIO_UNREACHABLE
    assert len(mail.outbox) == 1
    assert month_sent() == 1


def test_with_no_retries_configured_an_unreachable_text_falls_back_to_email_at_once(
    advisor: Any, sandbox: Sandbox, settings: Any
) -> None:
    settings.SMS_UNREACHABLE_RETRY_SECONDS = ()
    text = sent_text(advisor)

    fail(text)

    assert not Message.objects.filter(retry_of=text).exists()
    assert len(mail.outbox) == 1


def test_a_retry_is_shown_linked_to_its_first_attempt_with_when_it_is_due(
    advisor: Any, sandbox: Sandbox, admin_user: Any
) -> None:
    from django.test import Client

    from tests.conftest import client_for

    text = sent_text(advisor)
    fail(text)
    retry = Message.objects.get(retry_of=text)
    assert retry.recipient_id is not None and retry.not_before is not None
    staff = Client()
    staff.force_login(advisor.user)
    due = timezone.localtime(retry.not_before).strftime("%Y-%m-%d %H:%M")

    page = staff.get(f"/people/{retry.recipient_id}/").content.decode()
    report = Client()
    report.force_login(admin_user)
    listing = report.get("/messages/report/").content.decode()
    api = client_for(admin_user).get(f"/api/v1/messages/{retry.pk}/").json()

    assert f'Retry of text #{text.pk}</span> <span class="muted">due {due}</span>' in page
    assert f"retry of text #{text.pk}" in listing
    assert (api["retry_of"], api["status"]) == (text.pk, "queued")
    assert api["not_before"] is not None
