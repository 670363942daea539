"""Flow: an advisor texts a student through the API; the sandbox accepts the text and reports
its statuses to our status webhook URL, signed, carrying the message's token (the contract the
webhook views rely on; here a stand-in server receives them)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from messaging.models import Message, Status
from tests.sending_support import pool_numbers, student_with_phone
from tests.twilio_bridge.test_sandbox import Receiver
from twilio_bridge.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("config", "policy")


@pytest.fixture
def public(settings: Any) -> Iterator[Receiver]:
    receiver = Receiver()
    settings.PUBLIC_BASE_URL = receiver.url
    yield receiver
    receiver.stop()


@pytest.fixture
def live_box(settings: Any, public: Receiver) -> Iterator[Sandbox]:
    box = Sandbox(public_base_url=public.url, callback_delay=0).start()
    settings.TWILIO_API_BASE_URL = box.url
    yield box
    box.stop()


def test_a_text_sent_from_the_api_gets_signed_sent_and_delivered_callbacks_at_our_webhook_url(
    advisor_api: APIClient,
    live_box: Sandbox,
    public: Receiver,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    pool_numbers(1)
    student, phone = student_with_phone()

    with django_capture_on_commit_callbacks(execute=True):
        response = advisor_api.post(
            "/api/v1/messages/", {"recipient": student.pk, "body": "See you at 3?"}, format="json"
        )
    live_box.wait_callbacks()
    deadline = time.monotonic() + 5
    while len(public.posts) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)

    text = Message.objects.get(pk=response.json()["id"])
    assert text.status == Status.SENT
    url = f"{public.url}/twilio/sms/status/?token={text.token}"
    assert [p["form"]["MessageStatus"] for p in public.posts] == ["sent", "delivered"]
    for post in public.posts:
        assert post["path"] == f"/twilio/sms/status/?token={text.token}"
        assert post["form"]["MessageSid"] == text.twilio_sid
        assert post["form"]["To"] == phone.number
        assert RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(
            url, post["form"], post["signature"]
        )


def test_a_student_reply_is_posted_signed_to_our_inbound_webhook(
    live_box: Sandbox, public: Receiver, settings: Any, advisor: Any
) -> None:
    from sms_admin import pool

    pool_numbers(1)
    assignment = pool.sender_number_ensure(person=advisor)
    assert assignment is not None
    _student, phone = student_with_phone()

    sid, status = live_box.inbound(
        from_=phone.number, to=assignment.sender_number.number, body="Yes, 3 works"
    )

    [post] = public.posts
    assert (status, post["path"], post["form"]["MessageSid"]) == (200, "/twilio/sms/inbound/", sid)
    assert RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(
        f"{public.url}/twilio/sms/inbound/", post["form"], post["signature"]
    )
