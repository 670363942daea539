"""Flow, tried as a new user would (V2, Q1, C5): advisor1 texts Lena from her page; an
administrator deletes advisor1's number assignment on the Phone Number Usage grid; advisor3's
first text is given that number; Lena answers advisor1's text through the signed inbound webhook.
The answer is advisor1's: advisor1 is emailed, advisor3 is not and never sees it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from messaging.models import Attribution, Channel, Direction, Message, Status
from sms_admin.models import SenderAssignment
from tests import factories
from tests.sending_support import pool_numbers, student_with_phone
from tests.twilio_bridge.webhook_client import INBOUND_PATH, inbound_params, new_sid, signed_post
from twilio_bridge.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("config", "policy")


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_member(username: str, first: str, last: str) -> Any:
    return factories.staff(
        first_name=first,
        last_name=last,
        email=f"{username}@example.edu",
        user=factories.UserFactory(username=username),
    )


def test_lenas_answer_reaches_advisor1_after_the_number_went_to_advisor3(
    sandbox: Sandbox, admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    [number] = pool_numbers(1)
    advisor1 = staff_member("advisor1", "Ada", "One")
    advisor3 = staff_member("advisor3", "Cy", "Three")
    lena, lenas_cell = student_with_phone("+12025550100", first_name="Lena", last_name="Cho")
    other, _ = student_with_phone("+12025550177", first_name="Omar", last_name="Diaz")

    # advisor1 texts Lena from her person page.
    with django_capture_on_commit_callbacks(execute=True):
        login(advisor1.user).post(
            reverse("person-send", args=[lena.pk]), {"body": "Can we meet on Tuesday?"}
        )
    text = Message.objects.get(direction=Direction.OUTBOUND, sender=advisor1)
    assert (text.channel, text.status, text.from_number) == (
        Channel.SMS,
        Status.SENT,
        number.number,
    )

    # An administrator deletes advisor1's assignment on the Phone Number Usage grid.
    held = SenderAssignment.objects.get(person=advisor1, released_at__isnull=True)
    response = login(admin_user).post(reverse("sms-assignment-delete", args=[held.pk]))
    assert response.status_code == 302

    # advisor3's first text is given that number: the only one, taken while resting (Q1).
    with django_capture_on_commit_callbacks(execute=True):
        login(advisor3.user).post(reverse("person-send", args=[other.pk]), {"body": "Hello!"})
    taken = SenderAssignment.objects.get(person=advisor3, released_at__isnull=True)
    assert (taken.sender_number, taken.assigned_while_resting) == (number, True)
    mail.outbox.clear()

    # Lena answers advisor1's text.
    params = inbound_params(
        sid=new_sid(), from_number=lenas_cell.number, to_number=number.number, body="Tuesday works"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_post(Client(), INBOUND_PATH, params).status_code == 200

    reply = Message.objects.get(twilio_sid=params["MessageSid"])
    assert (reply.attributed_to, reply.attribution, reply.sender) == (
        advisor1,
        Attribution.REPLY,
        lena,
    )
    assert [email.to for email in mail.outbox] == [["advisor1@example.edu"]]
    assert "Lena Cho replied to your text" in mail.outbox[0].subject
    assert not Message.objects.filter(direction=Direction.INBOUND, attributed_to=advisor3).exists()
    # advisor3's view of Lena does not show it; advisor1's does.
    lenas_page = reverse("person-detail", args=[lena.pk])
    assert "Tuesday works" not in login(advisor3.user).get(lenas_page).content.decode()
    assert "Tuesday works" in login(advisor1.user).get(lenas_page).content.decode()
