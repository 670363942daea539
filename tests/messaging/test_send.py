"""Sending texts end to end through the sandbox (S1-S8, C6-C8, T3 at send time, R5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from messaging import services
from messaging.models import Channel, FailureReason, Message, Status
from people.models import (
    SYSTEM_PHONE_TYPE_SRC,
    PersonPhone,
    PhoneStatusChange,
    SmsStatus,
    StatusCause,
)
from sms_admin import pool
from sms_admin import services as sms_admin_services
from sms_admin.models import MonthlyUsage, SenderAssignment
from tests import factories
from tests.sending_support import pool_numbers, student_with_phone
from twilio_bridge.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("config", "policy")


def send(capture: Any, sender: Any, recipient: Any, body: str = "Hello from advising") -> Message:
    with capture(execute=True):
        message = services.message_send(sender=sender, recipient_id=recipient.pk, body=body)
    message.refresh_from_db()
    return message


def month_sent() -> int:
    year, month = pool.month_key()
    row = MonthlyUsage.objects.filter(year=year, month=month).first()
    return row.sent if row else 0


# --- the happy path ---------------------------------------------------------------------------


def test_a_permitted_advisor_text_reaches_twilio_with_the_status_callback_url(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    [number] = pool_numbers(1)
    student, phone = student_with_phone()

    message = send(django_capture_on_commit_callbacks, advisor, student)

    [create] = sandbox.creates()
    assert create["form"]["To"] == phone.number
    assert create["form"]["From"] == number.number
    assert create["form"]["Body"] == "Hello from advising"
    assert create["form"]["StatusCallback"] == (
        f"{settings.PUBLIC_BASE_URL}/twilio/sms/status/?token={message.token}"
    )
    assert message.status == Status.SENT
    assert message.twilio_sid in sandbox.messages
    assert message.channel == Channel.SMS
    assert message.destination == phone.number
    assert message.from_number == number.number
    assert month_sent() == 1


def test_the_first_send_assigns_a_pool_number_and_a_system_phone(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    [number] = pool_numbers(1)
    student, _ = student_with_phone()

    send(django_capture_on_commit_callbacks, advisor, student)

    assignment = SenderAssignment.objects.get(person=advisor, released_at__isnull=True)
    assert assignment.sender_number == number
    system = assignment.phone
    assert system.person == advisor
    assert system.number == number.number
    assert system.src_system_id.endswith("AVISO.SMS")
    assert system.phone_type_src_system_id == SYSTEM_PHONE_TYPE_SRC
    assert system.phone_type.code == "SYSTEM"


def test_later_sends_keep_the_same_number(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(3)
    student, _ = student_with_phone()

    first = send(django_capture_on_commit_callbacks, advisor, student)
    second = send(django_capture_on_commit_callbacks, advisor, student)

    assert first.from_number == second.from_number
    assert SenderAssignment.objects.filter(person=advisor).count() == 1


def test_segments_and_encoding_are_recorded_per_text(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()

    gsm = send(django_capture_on_commit_callbacks, advisor, student, "a" * 161)
    ucs = send(django_capture_on_commit_callbacks, advisor, student, "Good luck 👍")

    assert (gsm.encoding, gsm.segments) == ("GSM-7", 2)
    assert (ucs.encoding, ucs.segments) == ("UCS-2", 1)


# --- refusals before anything is queued (S1, S5) ----------------------------------------------


def test_a_sender_without_a_permitted_role_is_refused_and_nothing_is_recorded(
    sandbox: Sandbox,
) -> None:
    counsellor = factories.staff(role_code="counsellor")
    student, _ = student_with_phone()

    with pytest.raises(PermissionDenied, match="permitted role"):
        services.message_send(sender=counsellor, recipient_id=student.pk, body="Hi")

    assert Message.objects.count() == 0
    assert sandbox.creates() == []


def test_a_student_cannot_send_first(student_person: Any) -> None:
    other, _ = student_with_phone()
    with pytest.raises(PermissionDenied):
        services.message_send(sender=student_person, recipient_id=other.pk, body="Hi")


@pytest.mark.parametrize("body", ["", "   \n"])
def test_an_empty_body_is_refused(advisor: Any, body: str) -> None:
    student, _ = student_with_phone()
    with pytest.raises(ValidationError, match="empty"):
        services.message_send(sender=advisor, recipient_id=student.pk, body=body)
    assert Message.objects.count() == 0


def test_a_body_longer_than_sms_max_length_is_refused(advisor: Any) -> None:
    sms_admin_services.configuration_update(actor=None, sms_max_length=20)
    student, _ = student_with_phone()

    with pytest.raises(ValidationError, match="21 characters long; the limit is 20"):
        services.message_send(sender=advisor, recipient_id=student.pk, body="x" * 21)

    assert Message.objects.count() == 0


def test_a_body_exactly_sms_max_length_is_accepted(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_max_length=20)
    pool_numbers(1)
    student, _ = student_with_phone()

    message = send(django_capture_on_commit_callbacks, advisor, student, "x" * 20)

    assert message.status == Status.SENT


# --- routed to email (R5, S2, S4) -------------------------------------------------------------


def test_without_a_free_number_the_text_goes_by_email_with_no_sender_number(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    student, _ = student_with_phone(email="kim@example.edu")

    message = send(django_capture_on_commit_callbacks, advisor, student)

    assert message.channel == Channel.EMAIL
    assert message.failure_reason == FailureReason.NO_SENDER_NUMBER
    assert message.status == Status.SENT
    assert message.destination == "kim@example.edu"
    assert [m.to for m in mail.outbox] == [["kim@example.edu"]]
    assert sandbox.creates() == []


def test_at_the_phone_number_limit_no_number_is_assigned_even_with_free_numbers(
    sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_phone_number_limit=1)
    pool_numbers(3)
    first, second = factories.staff(), factories.staff()
    student, _ = student_with_phone()

    one = send(django_capture_on_commit_callbacks, first, student)
    two = send(django_capture_on_commit_callbacks, second, student)

    assert one.channel == Channel.SMS
    assert two.channel == Channel.EMAIL
    assert two.failure_reason == FailureReason.NO_SENDER_NUMBER
    assert SenderAssignment.objects.filter(released_at__isnull=True).count() == 1


def test_students_are_never_assigned_a_number(student_person: Any) -> None:
    pool_numbers(2)
    assert pool.sender_number_ensure(person=student_person) is None
    assert SenderAssignment.objects.count() == 0


def test_once_the_monthly_limit_is_reached_texts_go_by_email(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=1)
    pool_numbers(1)
    student, _ = student_with_phone()

    first = send(django_capture_on_commit_callbacks, advisor, student)
    second = send(django_capture_on_commit_callbacks, advisor, student)

    assert first.channel == Channel.SMS
    assert (second.channel, second.failure_reason) == (
        Channel.EMAIL,
        FailureReason.SMS_LIMIT_REACHED,
    )
    assert second.status == Status.SENT
    assert len(sandbox.creates()) == 1
    assert month_sent() == 1


def test_a_person_without_a_textable_phone_gets_an_email_with_no_sms_phone(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone(sms_status=SmsStatus.DISABLED)

    message = send(django_capture_on_commit_callbacks, advisor, student)

    assert (message.channel, message.failure_reason) == (Channel.EMAIL, FailureReason.NO_SMS_PHONE)
    assert len(mail.outbox) == 1
    assert SenderAssignment.objects.count() == 0


def test_a_person_with_neither_phone_nor_email_is_recorded_undeliverable(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    student, _ = student_with_phone(sms_status=SmsStatus.DISABLED, email="")

    message = send(django_capture_on_commit_callbacks, advisor, student)

    assert (message.channel, message.status, message.failure_reason) == (
        Channel.NONE,
        Status.FAILED,
        FailureReason.NO_EMAIL,
    )
    assert mail.outbox == []


def test_the_email_carries_the_sender_name_the_text_and_how_to_reply(
    sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    sender = factories.staff(first_name="Ada", last_name="Lovelace", email="ada@example.edu")
    student, _ = student_with_phone(sms_status=SmsStatus.DISABLED)

    send(django_capture_on_commit_callbacks, sender, student, "Your form is due Friday.")

    [email] = mail.outbox
    assert "Ada Lovelace" in email.subject
    assert "Your form is due Friday." in email.body
    assert "ada@example.edu" in email.body
    assert email.reply_to == ["ada@example.edu"]


# --- Twilio refuses before accepting (T3 at send time) ----------------------------------------


@pytest.mark.parametrize(
    ("to", "code", "reason", "phone_disabled"),
    [
        ("+15005550004", 21610, FailureReason.TWILIO_RECIPIENT_UNSUBSCRIBED, True),
        ("+15005550001", 21211, FailureReason.TWILIO_INVALID_NUMBER, True),
        ("+15005550009", 21614, FailureReason.TWILIO_NOT_MOBILE, True),
        ("+15005550003", 21408, FailureReason.TWILIO_REGION_NOT_PERMITTED, False),
    ],
)
def test_a_synchronous_twilio_refusal_applies_the_policy_and_falls_back_to_email(
    advisor: Any,
    sandbox: Sandbox,
    django_capture_on_commit_callbacks: Any,
    to: str,
    code: int,
    reason: str,
    phone_disabled: bool,
) -> None:
    pool_numbers(1)
    student, phone = student_with_phone(to, email="sam@example.edu")

    text = send(django_capture_on_commit_callbacks, advisor, student)

    assert (text.status, text.failure_reason, text.error_code) == (Status.FAILED, reason, code)
    fallback = Message.objects.get(replaces=text)
    assert (fallback.channel, fallback.status, fallback.failure_reason) == (
        Channel.EMAIL,
        Status.SENT,
        reason,
    )
    assert [m.to for m in mail.outbox] == [["sam@example.edu"]]
    phone.refresh_from_db()
    assert (phone.sms_status == SmsStatus.DISABLED) is phone_disabled
    if phone_disabled:
        change = PhoneStatusChange.objects.get(phone=phone)
        assert (change.cause, change.error_code) == (StatusCause.ERROR_CODE, code)
    # A text Twilio refused does not use up the monthly limit (messages Twilio accepted count).
    assert month_sent() == 0


def test_unsubscribed_21610_disables_every_phone_of_the_person(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, phone = student_with_phone("+15005550004")
    other = factories.PhoneFactory(person=student, sms_status=SmsStatus.DEFAULT)

    send(django_capture_on_commit_callbacks, advisor, student)

    assert set(PersonPhone.objects.filter(person=student).values_list("sms_status", flat=True)) == {
        SmsStatus.DISABLED
    }
    assert other.pk != phone.pk


def test_an_unknown_twilio_error_code_falls_back_without_touching_the_phone(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, phone = student_with_phone("+15005550002")  # 21612, not in the policy table

    text = send(django_capture_on_commit_callbacks, advisor, student)

    assert (text.failure_reason, text.error_code) == (FailureReason.TWILIO_UNREACHABLE, 21612)
    phone.refresh_from_db()
    assert phone.sms_status == SmsStatus.ENABLED


# --- transient failures and ambiguous timeouts (S6) -------------------------------------------


def test_twilio_answering_429_twice_then_accepting_gives_one_message_counted_once(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    sandbox.fail_next(status=429, code=20429, times=2)

    text = send(django_capture_on_commit_callbacks, advisor, student)

    assert len(sandbox.creates()) == 3
    assert len(sandbox.messages) == 1
    assert (text.status, text.attempts) == (Status.SENT, 3)
    assert text.twilio_sid in sandbox.messages
    assert month_sent() == 1


def test_twilio_unavailable_every_time_ends_in_retries_exhausted_and_an_email(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    from messaging.sending import MAX_ATTEMPTS

    pool_numbers(1)
    student, _ = student_with_phone()
    sandbox.fail_next(status=500, code=20500, times=50)

    text = send(django_capture_on_commit_callbacks, advisor, student)

    assert len(sandbox.creates()) == MAX_ATTEMPTS
    assert (text.status, text.failure_reason) == (Status.FAILED, FailureReason.RETRIES_EXHAUSTED)
    assert Message.objects.get(replaces=text).channel == Channel.EMAIL
    assert month_sent() == 0


def test_a_connection_refused_is_retried_then_falls_back(
    advisor: Any, settings: Any, django_capture_on_commit_callbacks: Any, policy: None
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"  # nothing listens there
    pool_numbers(1)
    student, _ = student_with_phone()

    text = send(django_capture_on_commit_callbacks, advisor, student)

    assert (text.status, text.failure_reason) == (Status.FAILED, FailureReason.RETRIES_EXHAUSTED)


def test_a_timeout_after_twilio_accepted_is_reconciled_without_a_second_request(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.TWILIO_READ_TIMEOUT = 0.3
    pool_numbers(1)
    student, _ = student_with_phone()
    sandbox.hang_next(seconds=1.0, accept=True)

    text = send(django_capture_on_commit_callbacks, advisor, student)

    assert len(sandbox.creates()) == 1
    [remote] = sandbox.messages
    assert (text.status, text.twilio_sid, text.failure_reason) == (Status.SENT, remote, "")
    assert month_sent() == 1


def test_a_timeout_where_twilio_has_nothing_is_flagged_for_review_and_never_resent_blindly(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from messaging import sending
    from twilio_bridge import gateway

    settings.TWILIO_READ_TIMEOUT = 0.3
    pool_numbers(1)
    student, _ = student_with_phone()
    sandbox.hang_next(seconds=1.0, accept=False)

    text = send(django_capture_on_commit_callbacks, advisor, student)

    assert (text.status, text.failure_reason) == (Status.SENDING, FailureReason.NEEDS_REVIEW)
    assert len(sandbox.creates()) == 1
    # The sweep, long after any request could be in flight, settles it: not at Twilio, so the
    # text failed; the student gets the email; still no second request.
    settings.SMS_STUCK_AFTER_SECONDS = 0
    assert sending.messages_sweep(gateway=gateway.from_settings()) == {
        "requeued": 0,
        "reconciled": 1,
    }
    text.refresh_from_db()
    assert (text.status, text.failure_reason) == (Status.FAILED, FailureReason.NEEDS_REVIEW)
    assert Message.objects.get(replaces=text).channel == Channel.EMAIL
    assert len(sandbox.creates()) == 1
    assert month_sent() == 0


# --- routed again at send time; enqueued on commit --------------------------------------------


def test_a_phone_disabled_after_queuing_is_not_texted_and_another_phone_is_used(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    from people import services as people_services

    pool_numbers(1)
    student, first = student_with_phone("+12025550100")
    second = factories.PhoneFactory(
        person=student, number="+12025550199", sms_status=SmsStatus.ENABLED
    )
    # the first phone is the verified one, so it is chosen at request time
    PersonPhone.objects.filter(pk=first.pk).update(
        verified_at=datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
    assert text.destination == first.number

    people_services.phone_status_set(
        phone=first, status=SmsStatus.DISABLED, cause=StatusCause.OPT_OUT
    )
    for callback in queued:
        callback()

    [create] = sandbox.creates()
    assert create["form"]["To"] == second.number
    text.refresh_from_db()
    assert (text.status, text.destination, text.phone_id) == (
        Status.SENT,
        second.number,
        second.pk,
    )


def test_a_phone_disabled_after_queuing_sends_the_text_by_email_when_no_phone_is_left(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    from people import services as people_services

    pool_numbers(1)
    student, phone = student_with_phone()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
    assert month_sent() == 1

    people_services.phone_status_set(
        phone=phone, status=SmsStatus.DISABLED, cause=StatusCause.MANUAL
    )
    for callback in queued:
        callback()

    assert sandbox.creates() == []
    text.refresh_from_db()
    assert (text.status, text.failure_reason) == (Status.FAILED, FailureReason.NO_SMS_PHONE)
    assert Message.objects.get(replaces=text).channel == Channel.EMAIL
    assert month_sent() == 0


def test_a_text_enqueued_inside_a_transaction_that_rolls_back_is_never_sent(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
        raise RuntimeError("the surrounding work failed")

    assert callbacks == []
    assert Message.objects.count() == 0
    assert sandbox.creates() == []
    assert month_sent() == 0


def test_a_send_task_delivered_again_after_the_claim_sends_nothing(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    from twilio_bridge import tasks

    pool_numbers(1)
    student, _ = student_with_phone()
    text = send(django_capture_on_commit_callbacks, advisor, student)

    assert tasks.send_sms.apply(kwargs={"message_id": text.pk}).get() == "skipped"
    assert tasks.send_sms.apply(kwargs={"message_id": text.pk}).get() == "skipped"
    assert len(sandbox.creates()) == 1


@pytest.mark.parametrize("request_left", [True, False])
def test_a_task_redelivered_after_its_worker_died_mid_send_sends_nothing_twice(
    advisor: Any,
    sandbox: Sandbox,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    request_left: bool,
) -> None:
    """The worker claimed the text and died, before or after its request reached Twilio; the
    broker redelivers the task (acks_late); the sweep later settles the text by lookup."""
    from messaging import sending
    from twilio_bridge import gateway, tasks

    pool_numbers(1)
    student, phone = student_with_phone()
    with django_capture_on_commit_callbacks(execute=False):
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
    assert services.message_sms_claim(message_id=text.pk) is not None  # the dying worker
    if request_left:
        result = gateway.message_create(
            to=phone.number, body="Hi", from_=text.from_number, status_callback=""
        )
        assert result.outcome == gateway.ACCEPTED

    assert tasks.send_sms.apply(kwargs={"message_id": text.pk}).get() == "skipped"
    settings.SMS_STUCK_AFTER_SECONDS = 0
    sending.messages_sweep(gateway=gateway.from_settings())

    assert len(sandbox.creates()) == (1 if request_left else 0)
    text.refresh_from_db()
    if request_left:
        assert (text.status, text.twilio_sid) == (Status.SENT, next(iter(sandbox.messages)))
    else:
        assert (text.status, text.failure_reason) == (Status.FAILED, FailureReason.NEEDS_REVIEW)


def test_the_sweep_requeues_a_text_whose_task_was_lost(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from messaging import sending
    from twilio_bridge import gateway

    pool_numbers(1)
    student, _ = student_with_phone()
    with django_capture_on_commit_callbacks(execute=False):
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
    settings.SWEEP_QUEUED_AFTER_SECONDS = 0

    assert sending.messages_sweep(gateway=gateway.from_settings())["requeued"] == 1

    text.refresh_from_db()
    assert text.status == Status.SENT
    assert len(sandbox.creates()) == 1


# --- bulk (R7) --------------------------------------------------------------------------------


def test_bulk_send_records_one_message_per_recipient_and_routes_each(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    textable = [student_with_phone(f"+120255501{i:02d}")[0] for i in range(3)]
    by_email, _ = student_with_phone("+12025550190", sms_status=SmsStatus.DISABLED)

    with django_capture_on_commit_callbacks(execute=True):
        result = services.message_send_bulk(
            sender=advisor,
            recipient_ids=[p.pk for p in [*textable, by_email]],
            body="Registration opens Monday",
            batch_size=2,
        )

    assert result.counts == {("sms", ""): 3, ("email", "NO_SMS_PHONE"): 1}
    assert len(sandbox.creates()) == 3
    assert Message.objects.filter(channel=Channel.SMS, status=Status.SENT).count() == 3
    assert month_sent() == 3


def test_bulk_send_takes_only_what_is_left_of_the_month(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=2)
    pool_numbers(1)
    people = [student_with_phone(f"+120255502{i:02d}")[0] for i in range(5)]

    with django_capture_on_commit_callbacks(execute=True):
        result = services.message_send_bulk(
            sender=advisor, recipient_ids=[p.pk for p in people], body="Hi"
        )

    assert result.counts == {("sms", ""): 2, ("email", "SMS_LIMIT_REACHED"): 3}
    assert month_sent() == 2


def test_bulk_routing_costs_the_same_queries_for_a_small_and_a_large_batch(
    advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pool_numbers(1)
    # 35 people: SQLite splits one INSERT at 999 parameters (39 messages of 25 columns),
    # PostgreSQL never.
    people = [student_with_phone(f"+12025553{i:03d}")[0] for i in range(35)]

    def queries_for(ids: list[int]) -> int:
        with (
            django_capture_on_commit_callbacks(execute=False),
            CaptureQueriesContext(connection) as ctx,
        ):
            services.message_send_bulk(sender=advisor, recipient_ids=ids, body="Hi")
        return len(ctx.captured_queries)

    queries_for([people[0].pk])  # assigns the sender number once
    small = queries_for([p.pk for p in people[:5]])
    large = queries_for([p.pk for p in people[5:]])

    assert small == large


def test_an_assignment_deleted_after_queuing_sends_from_a_free_number_or_by_email(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    [first_number] = pool_numbers(1)
    student, _ = student_with_phone()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
        again = services.message_send(sender=advisor, recipient_id=student.pk, body="Again")
    assert text.from_number == first_number.number
    assignment = SenderAssignment.objects.get(person=advisor, released_at__isnull=True)

    pool.sender_assignment_release(assignment_id=assignment.pk)
    queued[0]()  # the next send of this staff member gets a free number again (S8)
    sms_admin_services.configuration_update(actor=None, sms_phone_number_limit=0)
    pool.sender_assignment_release(
        assignment_id=SenderAssignment.objects.get(released_at__isnull=True).pk
    )
    queued[1]()  # none can be assigned now

    text.refresh_from_db()
    again.refresh_from_db()
    assert (text.status, text.from_number) == (Status.SENT, first_number.number)
    assert [c["form"]["From"] for c in sandbox.creates()] == [first_number.number]
    assert SenderAssignment.objects.filter(person=advisor).count() == 2  # released, then anew
    assert (again.status, again.failure_reason) == (
        Status.FAILED,
        FailureReason.NO_SENDER_NUMBER,
    )
    assert Message.objects.get(replaces=again).channel == Channel.EMAIL
    assert month_sent() == 1
