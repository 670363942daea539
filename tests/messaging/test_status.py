"""Status callbacks through the signed webhook: T2 (idempotent, monotonic) and T3 (policy)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.test import Client, TestCase

from messaging.models import Channel, Message, Status
from people.models import PhoneStatusChange, SmsStatus, StatusCause
from sms_admin.models import ErrorCodePolicy, OptOutScope, PolicyAction, SmsConfiguration
from tests.twilio_bridge.webhook_client import (
    STATUS_PATH,
    World,
    new_sid,
    signed_post,
    status_params,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: Any) -> World:
    return World()


def post_status(sid: str, status: str, error_code: int | None = None, **kw: Any) -> Any:
    """The signed callback; what it queued on commit (the email task) then runs, as it would
    after the request's transaction commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return signed_post(Client(), STATUS_PATH, status_params(sid, status, error_code), **kw)


def phone_statuses(world: World) -> tuple[str, str]:
    world.cell.refresh_from_db()
    world.home.refresh_from_db()
    return world.cell.sms_status, world.home.sms_status


# (code, failure reason, what happens to the phones: "all", "this" or "none", admins alerted)
T3_ROWS = [
    (21610, "TWILIO_RECIPIENT_UNSUBSCRIBED", "all", False),
    (21211, "TWILIO_INVALID_NUMBER", "this", False),
    (21614, "TWILIO_NOT_MOBILE", "this", False),
    (21635, "TWILIO_NOT_MOBILE", "this", False),
    (30005, "TWILIO_UNKNOWN_HANDSET", "this", False),
    (30006, "TWILIO_LANDLINE", "this", False),
    (30004, "TWILIO_BLOCKED", "this", False),
    (30003, "TWILIO_UNREACHABLE", "none", False),
    (30008, "TWILIO_UNREACHABLE", "none", False),
    (21408, "TWILIO_REGION_NOT_PERMITTED", "none", True),
    (30007, "TWILIO_FILTERED", "none", True),
    (30034, "TWILIO_SENDER_UNREGISTERED", "none", True),
    (20429, "RETRIES_EXHAUSTED", "none", False),
    # Not in the table: email, and never touch a phone.
    (12345, "TWILIO_UNREACHABLE", "none", False),
]


@pytest.mark.parametrize(("code", "reason", "phones", "alert"), T3_ROWS)
@pytest.mark.parametrize("twilio_status", ["undelivered", "failed"])
def test_each_error_code_row_sets_reason_phones_causes_and_sends_the_fallback_email(
    world: World,
    caplog: pytest.LogCaptureFixture,
    code: int,
    reason: str,
    phones: str,
    alert: bool,
    twilio_status: str,
    settings: Any,
) -> None:
    # With no retry left, "retry later" codes (30003, 30008) also end in the email here; their
    # retries are proven in test_status_retry.py.
    settings.SMS_UNREACHABLE_RETRY_SECONDS = ()
    text = world.outbound_text()

    with caplog.at_level(logging.ERROR, logger="messaging.policy"):
        response = post_status(text.twilio_sid, twilio_status, code)

    assert response.status_code == 204
    text.refresh_from_db()
    assert text.status == twilio_status
    assert text.failure_reason == reason
    assert text.error_code == code
    expected = {
        "all": (SmsStatus.DISABLED, SmsStatus.DISABLED),
        "this": (SmsStatus.DISABLED, SmsStatus.DEFAULT),
        "none": (SmsStatus.ENABLED, SmsStatus.DEFAULT),
    }[phones]
    assert phone_statuses(world) == expected
    changes = PhoneStatusChange.objects.filter(phone__person=world.student)
    assert changes.count() == {"all": 2, "this": 1, "none": 0}[phones]
    assert all(c.cause == StatusCause.ERROR_CODE and c.error_code == code for c in changes)
    assert all(c.new_status == SmsStatus.DISABLED for c in changes)
    fallback = Message.objects.get(replaces=text)
    assert fallback.channel == Channel.EMAIL
    assert fallback.failure_reason == reason
    assert fallback.destination == world.student.email
    assert [m.to for m in mail.outbox] == [[world.student.email]]
    assert text.body in mail.outbox[0].body
    assert any(str(code) in r.getMessage() for r in caplog.records) is alert


def test_unsubscribed_code_disables_only_that_phone_when_the_opt_out_scope_says_so(
    world: World,
) -> None:
    SmsConfiguration.objects.update_or_create(
        pk=1, defaults={"opt_out_scope": OptOutScope.THIS_PHONE}
    )
    text = world.outbound_text()

    post_status(text.twilio_sid, "failed", 21610)

    assert phone_statuses(world) == (SmsStatus.DISABLED, SmsStatus.DEFAULT)


def test_an_administrators_edit_of_the_policy_table_changes_what_a_code_does(
    world: World,
) -> None:
    ErrorCodePolicy.objects.filter(code=30003).update(
        action=PolicyAction.DISABLE_PHONE, failure_reason="TWILIO_UNKNOWN_HANDSET"
    )
    text = world.outbound_text()

    post_status(text.twilio_sid, "undelivered", 30003)

    text.refresh_from_db()
    assert text.failure_reason == "TWILIO_UNKNOWN_HANDSET"
    assert phone_statuses(world) == (SmsStatus.DISABLED, SmsStatus.DEFAULT)


def test_a_failure_without_an_error_code_falls_back_to_email_and_touches_no_phone(
    world: World,
) -> None:
    text = world.outbound_text()

    post_status(text.twilio_sid, "failed")

    text.refresh_from_db()
    assert text.status == Status.FAILED
    assert text.failure_reason == "TWILIO_UNREACHABLE"
    assert phone_statuses(world) == (SmsStatus.ENABLED, SmsStatus.DEFAULT)
    assert len(mail.outbox) == 1


def test_delivered_is_stored_with_its_time(world: World) -> None:
    text = world.outbound_text()

    response = post_status(text.twilio_sid, "delivered")

    assert response.status_code == 204
    text.refresh_from_db()
    assert text.status == Status.DELIVERED
    assert text.delivered_at is not None
    assert mail.outbox == []


def test_ten_replays_of_a_failure_callback_have_one_effect(world: World) -> None:
    text = world.outbound_text()

    responses = [post_status(text.twilio_sid, "undelivered", 30005) for _ in range(10)]

    assert {r.status_code for r in responses} == {204}
    assert PhoneStatusChange.objects.filter(phone=world.cell).count() == 1
    assert Message.objects.filter(replaces=text).count() == 1
    assert len(mail.outbox) == 1


def test_ten_replays_of_delivered_leave_it_delivered_with_the_first_time(world: World) -> None:
    text = world.outbound_text()
    post_status(text.twilio_sid, "delivered")
    text.refresh_from_db()
    first = text.delivered_at

    for _ in range(9):
        post_status(text.twilio_sid, "delivered")

    text.refresh_from_db()
    assert text.status == Status.DELIVERED
    assert text.delivered_at == first


def test_a_late_sent_never_overwrites_delivered(world: World) -> None:
    text = world.outbound_text()

    post_status(text.twilio_sid, "delivered")
    post_status(text.twilio_sid, "sent")
    post_status(text.twilio_sid, "sending")

    text.refresh_from_db()
    assert text.status == Status.DELIVERED


def test_a_failure_after_delivered_changes_nothing(world: World) -> None:
    text = world.outbound_text()

    post_status(text.twilio_sid, "delivered")
    post_status(text.twilio_sid, "undelivered", 30005)

    text.refresh_from_db()
    assert text.status == Status.DELIVERED
    assert text.failure_reason == ""
    assert phone_statuses(world) == (SmsStatus.ENABLED, SmsStatus.DEFAULT)
    assert mail.outbox == []


def test_statuses_move_forward_through_sending_sent_delivered(world: World) -> None:
    text = world.outbound_text(status=Status.QUEUED, sid=None)
    text.twilio_sid = new_sid()
    text.save()

    post_status(text.twilio_sid, "sending")
    text.refresh_from_db()
    assert text.status == Status.SENDING
    post_status(text.twilio_sid, "sent")
    text.refresh_from_db()
    assert text.status == Status.SENT
    assert text.sent_at is not None


def test_an_unknown_message_sid_is_answered_2xx_and_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    text = world.outbound_text()
    unknown = new_sid()

    with caplog.at_level(logging.WARNING, logger="messaging.status"):
        response = post_status(unknown, "failed", 30005)

    assert response.status_code == 204
    assert any(unknown in r.getMessage() for r in caplog.records)
    text.refresh_from_db()
    assert text.status == Status.SENT
    assert phone_statuses(world) == (SmsStatus.ENABLED, SmsStatus.DEFAULT)
    assert mail.outbox == []


def test_an_unknown_message_status_is_logged_answered_2xx_and_changes_nothing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    text = world.outbound_text()

    with caplog.at_level(logging.WARNING, logger="messaging.status"):
        response = post_status(text.twilio_sid, "teleported")

    assert response.status_code == 204
    assert any("teleported" in r.getMessage() for r in caplog.records)
    before = text.updated_at
    text.refresh_from_db()
    assert text.status == Status.SENT
    assert text.updated_at == before


def test_a_callback_that_overtakes_the_stored_sid_finds_its_message_by_token(
    world: World,
) -> None:
    text = world.outbound_text(sid=None, status=Status.SENDING)
    sid = new_sid()

    response = post_status(sid, "delivered", query=f"token={text.token}")

    assert response.status_code == 204
    text.refresh_from_db()
    assert text.status == Status.DELIVERED
    assert text.twilio_sid == sid


def test_a_failure_found_by_token_before_the_sid_applies_the_policy(world: World) -> None:
    text = world.outbound_text(sid=None, status=Status.SENDING)

    post_status(new_sid(), "undelivered", 30005, query=f"token={text.token}")

    text.refresh_from_db()
    assert text.failure_reason == "TWILIO_UNKNOWN_HANDSET"
    assert phone_statuses(world) == (SmsStatus.DISABLED, SmsStatus.DEFAULT)
    assert len(mail.outbox) == 1


def test_a_callback_for_an_email_message_changes_nothing(world: World) -> None:
    email = world.outbound_text(channel=Channel.EMAIL, status=Status.SENT)

    response = post_status(email.twilio_sid, "failed", 30005)

    assert response.status_code == 204
    email.refresh_from_db()
    assert email.status == Status.SENT
    assert mail.outbox == []
    # 30005 would disable the cell if the callback had been applied to an SMS.
    assert phone_statuses(world) == (SmsStatus.ENABLED, SmsStatus.DEFAULT)


def test_a_callback_whose_sid_belongs_to_another_message_updates_by_token_and_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    other = world.outbound_text()
    text = world.outbound_text(sid=None, status=Status.SENDING)

    with caplog.at_level(logging.ERROR, logger="messaging.status"):
        response = post_status(other.twilio_sid, "delivered", query=f"token={text.token}")

    assert response.status_code == 204
    text.refresh_from_db()
    assert text.status == Status.DELIVERED
    assert text.twilio_sid is None
    assert any("already belongs" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_sid_collision_is_logged_and_the_status_still_stored(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    other = world.outbound_text()
    text = world.outbound_text(sid=None, status=Status.SENDING)

    with caplog.at_level(logging.ERROR, logger="messaging.status"):
        response = post_status(other.twilio_sid, "delivered", query=f"token={text.token}")

    assert response.status_code == 204
    text.refresh_from_db()
    assert text.status == Status.DELIVERED
    assert any("already belongs" in r.getMessage() for r in caplog.records)


def test_a_sender_side_error_emails_the_administrators_once_an_hour(world: World) -> None:
    from django.core.cache import cache

    from tests.factories import UserFactory

    cache.clear()
    UserFactory(username="ops", is_staff=True, email="ops@example.edu")
    first, second = world.outbound_text(), world.outbound_text()

    # post_status runs what each callback queued on commit (the alert, the emails).
    post_status(first.twilio_sid, "undelivered", 30034)
    post_status(second.twilio_sid, "undelivered", 30034)

    alerts = [m for m in mail.outbox if m.to == ["ops@example.edu"]]
    assert len(alerts) == 1
    assert "30034" in alerts[0].subject
    assert "TWILIO_SENDER_UNREGISTERED" in alerts[0].subject
