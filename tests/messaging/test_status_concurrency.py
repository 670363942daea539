"""Status callbacks racing on PostgreSQL (T2): duplicates in parallel have one effect."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from messaging import status
from messaging.models import Message, Status
from people.models import PhoneStatusChange, SmsStatus
from tests.parallel import postgres_only, run_at_once
from tests.twilio_bridge.webhook_client import STATUS_PATH, World, signed_post, status_params

pytestmark = postgres_only


@pytest.fixture
def world(transactional_db: Any) -> World:
    return World()


def test_twenty_parallel_duplicate_failure_callbacks_make_one_state_change(world: World) -> None:
    text = world.outbound_text()
    params = status_params(text.twilio_sid, "undelivered", 30005)

    codes = run_at_once(lambda _: signed_post(Client(), STATUS_PATH, params).status_code, 20)

    assert codes == [204] * 20
    text.refresh_from_db()
    assert text.status == Status.UNDELIVERED
    assert text.failure_reason == "TWILIO_UNKNOWN_HANDSET"
    assert PhoneStatusChange.objects.filter(phone=world.cell).count() == 1
    world.cell.refresh_from_db()
    assert world.cell.sms_status == SmsStatus.DISABLED
    assert Message.objects.filter(replaces=text).count() == 1
    assert len(mail.outbox) == 1


def test_twenty_parallel_unreachable_callbacks_schedule_one_retry_and_no_email(
    world: World,
) -> None:
    text = world.outbound_text()
    params = status_params(text.twilio_sid, "undelivered", 30003)

    codes = run_at_once(lambda _: signed_post(Client(), STATUS_PATH, params).status_code, 20)

    assert codes == [204] * 20
    assert Message.objects.filter(retry_of=text, status=Status.QUEUED).count() == 1
    assert not Message.objects.filter(replaces=text).exists()
    assert mail.outbox == []


def test_twenty_parallel_duplicate_delivered_callbacks_change_the_state_once(
    world: World,
) -> None:
    text = world.outbound_text()

    outcomes = run_at_once(
        lambda _: status.message_status_apply(
            message_sid=text.twilio_sid, twilio_status="delivered"
        ),
        20,
    )

    assert sum(o.changed for o in outcomes) == 1
    assert all(o.found for o in outcomes)
    text.refresh_from_db()
    assert text.status == Status.DELIVERED


def test_sent_and_delivered_racing_in_parallel_end_delivered(world: World) -> None:
    text = world.outbound_text(status=Status.SENDING)
    order = ["sent", "delivered"] * 10

    outcomes = run_at_once(
        lambda i: status.message_status_apply(message_sid=text.twilio_sid, twilio_status=order[i]),
        20,
    )

    text.refresh_from_db()
    assert text.status == Status.DELIVERED
    assert sum(o.changed for o in outcomes) <= 2
