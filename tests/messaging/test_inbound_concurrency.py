"""The same inbound MessageSid delivered twice at once on PostgreSQL: one message, one effect."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from messaging.models import Message
from people.models import PhoneStatusChange, SmsStatus, StatusCause
from tests.parallel import postgres_only, run_at_once
from tests.twilio_bridge.webhook_client import (
    INBOUND_PATH,
    World,
    inbound_params,
    new_sid,
    signed_post,
)

pytestmark = postgres_only


@pytest.fixture
def world(transactional_db: Any) -> World:
    return World()


@pytest.mark.parametrize("copies", [2, 10])
def test_the_same_inbound_message_sid_posted_at_once_is_recorded_once(
    world: World, copies: int
) -> None:
    world.cell.sms_status = SmsStatus.DEFAULT
    world.cell.save()
    params = inbound_params(
        sid=new_sid(),
        from_number=world.cell.number,
        to_number=world.sender_number.number,
        body="Hi, can I come by today?",
    )

    codes = run_at_once(lambda _: signed_post(Client(), INBOUND_PATH, params).status_code, copies)

    assert codes == [200] * copies
    assert Message.objects.filter(twilio_sid=params["MessageSid"]).count() == 1
    changes = PhoneStatusChange.objects.filter(phone=world.cell)
    assert list(changes.values_list("cause", flat=True)) == [StatusCause.STUDENT_INITIATED]
    assert len(mail.outbox) == 1


def test_the_same_stop_posted_at_once_disables_each_phone_once(world: World) -> None:
    params = inbound_params(
        sid=new_sid(),
        from_number=world.cell.number,
        to_number=world.sender_number.number,
        body="STOP",
    )

    run_at_once(lambda _: signed_post(Client(), INBOUND_PATH, params).status_code, 10)

    assert Message.objects.filter(twilio_sid=params["MessageSid"]).count() == 1
    assert PhoneStatusChange.objects.filter(phone__person=world.student).count() == 2
    world.cell.refresh_from_db()
    world.home.refresh_from_db()
    assert (world.cell.sms_status, world.home.sms_status) == (
        SmsStatus.DISABLED,
        SmsStatus.DISABLED,
    )
