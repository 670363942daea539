"""Sending guarantees no other test pinned down: a status callback that overtook the worker is
never undone, a cohort without a sender number spends none of the month, and a text diverted to
email at the monthly limit keeps nothing of the text it was going to be."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from messaging import services
from messaging.models import Channel, FailureReason, Message, Status
from sms_admin import pool
from sms_admin import services as sms_admin_services
from sms_admin.models import MonthlyUsage
from tests.sending_support import pool_numbers, student_with_phone
from tests.twilio_bridge.webhook_client import (
    STATUS_PATH,
    World,
    new_sid,
    signed_post,
    status_params,
)

pytestmark = pytest.mark.usefixtures("config", "policy")


def month_sent() -> int:
    year, month = pool.month_key()
    row = MonthlyUsage.objects.filter(year=year, month=month).first()
    return row.sent if row else 0


# --- the worker's "accepted" never moves a text backwards ---------------------------------------


@pytest.mark.parametrize(
    ("callback", "error_code", "reported"),
    [("delivered", None, Status.DELIVERED), ("undelivered", 30005, Status.UNDELIVERED)],
)
def test_twilio_accepting_a_text_whose_status_callback_came_first_leaves_the_callbacks_status(
    django_capture_on_commit_callbacks: Any, callback: str, error_code: int | None, reported: str
) -> None:
    world = World()
    text = world.outbound_text(sid=None, status=Status.SENDING)
    sid = new_sid()
    # Twilio's callback (found by our token) overtakes the worker's record of Twilio's answer.
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(
            Client(),
            STATUS_PATH,
            status_params(sid, callback, error_code),
            query=f"token={text.token}",
        )
    assert response.status_code == 204
    text.refresh_from_db()
    assert text.status == reported

    services.message_sms_accepted(message_id=text.pk, twilio_sid=sid)

    text.refresh_from_db()
    assert (text.status, text.twilio_sid) == (reported, sid)
    assert text.sent_at is None


def test_twilio_accepting_a_text_still_sending_marks_it_sent_with_its_sid() -> None:
    world = World()
    text = world.outbound_text(sid=None, status=Status.SENDING)
    sid = new_sid()

    services.message_sms_accepted(message_id=text.pk, twilio_sid=sid)

    text.refresh_from_db()
    assert (text.status, text.twilio_sid) == (Status.SENT, sid)
    assert text.sent_at is not None


# --- a cohort whose sender has no number ----------------------------------------------------------


def test_a_cohort_from_a_sender_with_no_free_pool_number_leaves_this_months_counter_unchanged(
    advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # No pool number at all: every texting recipient goes by email, and the month keeps its units.
    people = [student_with_phone(f"+120255503{i:02d}")[0] for i in range(3)]
    assert month_sent() == 0

    with django_capture_on_commit_callbacks(execute=False):
        result = services.message_send_bulk(
            sender=advisor, recipient_ids=[p.pk for p in people], body="Hi"
        )

    assert result.counts == {(Channel.EMAIL, FailureReason.NO_SENDER_NUMBER): 3}
    assert month_sent() == 0


def test_a_cohort_that_went_by_email_for_want_of_a_number_leaves_the_month_for_later_texts(
    advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=2)
    people = [student_with_phone(f"+120255504{i:02d}")[0] for i in range(2)]
    with django_capture_on_commit_callbacks(execute=False):
        services.message_send_bulk(sender=advisor, recipient_ids=[p.pk for p in people], body="Hi")
    # A number comes into the pool: the same cohort now goes by text, both of it.
    pool_numbers(1)

    with django_capture_on_commit_callbacks(execute=False):
        result = services.message_send_bulk(
            sender=advisor, recipient_ids=[p.pk for p in people], body="Hi"
        )

    assert result.counts == {(Channel.SMS, ""): 2}
    assert month_sent() == 2


# --- a single text diverted to email at the monthly limit -----------------------------------------


def test_a_text_diverted_to_email_at_the_monthly_limit_keeps_no_phone_sender_number_or_segments(
    advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=1)
    pool_numbers(1)
    student, _ = student_with_phone(email="sam@example.edu")
    assert pool.monthly_usage_reserve(limit=1)  # the month's only unit is gone

    with django_capture_on_commit_callbacks(execute=False):
        message = services.message_send(sender=advisor, recipient_id=student.pk, body="Hello")

    stored = Message.objects.get(pk=message.pk)
    assert stored.channel == Channel.EMAIL
    assert stored.failure_reason == FailureReason.SMS_LIMIT_REACHED
    assert stored.destination == "sam@example.edu"
    assert stored.status == Status.QUEUED
    assert stored.from_number == ""
    assert stored.phone is None
    assert (stored.segments, stored.encoding) == (0, "")
    assert month_sent() == 1
