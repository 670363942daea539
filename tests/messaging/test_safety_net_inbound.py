"""An inbound text from a number two people share joins the conversation of the one this staff
member texted most recently, whichever of them that is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from messaging.models import Direction, Message
from tests import factories
from tests.twilio_bridge.webhook_client import (
    INBOUND_PATH,
    World,
    inbound_params,
    new_sid,
    signed_post,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("texted_last", ["student", "sibling"])
def test_a_reply_from_a_shared_number_goes_to_the_person_texted_most_recently(
    django_capture_on_commit_callbacks: Any, texted_last: str
) -> None:
    world = World()
    sibling = factories.student(first_name="Kim", last_name="Student")
    shared = factories.PhoneFactory(person=sibling, number=world.cell.number)
    # The student's text is always recorded first (lower id); only the send times differ, so
    # the id order agrees with the time order in one case and contradicts it in the other.
    to_student = world.outbound_text(recipient=world.student, phone=world.cell)
    to_sibling = world.outbound_text(recipient=sibling, phone=shared)
    now = timezone.now()
    latest, earlier = (
        (to_student, to_sibling) if texted_last == "student" else (to_sibling, to_student)
    )
    Message.objects.filter(pk=latest.pk).update(created_at=now - timedelta(hours=1))
    Message.objects.filter(pk=earlier.pk).update(created_at=now - timedelta(days=2))
    params = inbound_params(
        sid=new_sid(),
        from_number=world.cell.number,
        to_number=world.sender_number.number,
        body="Tuesday works",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(Client(), INBOUND_PATH, params)

    assert response.status_code == 200
    reply = Message.objects.get(twilio_sid=params["MessageSid"])
    assert reply.direction == Direction.INBOUND
    assert reply.is_reply is True
    assert (reply.sender, reply.phone) == (latest.recipient, latest.phone)
    assert reply.recipient == world.advisor
