"""Flow, the demo path end to end in the embedded default: an advisor logs in over HTTP, sends a
text from the person page's compose form (person-send), the text reaches the sandbox, and the
sandbox's signed status callbacks come back through our real webhook
(PUBLIC_BASE_URL/twilio/sms/status/?token=...) until the conversation shows it delivered."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from messaging.models import Channel, Message, Status
from sms_admin.models import WebhookKind, WebhookReceipt
from tests import factories
from tests.sending_support import pool_numbers, student_with_phone
from twilio_bridge.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("config", "policy")

PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's


@pytest.fixture
def demo(live_server: Any, settings: Any) -> Iterator[Sandbox]:
    """What `runserver_demo` sets up: the sandbox, calling back to the server's public URL."""
    settings.PUBLIC_BASE_URL = live_server.url
    box = Sandbox(public_base_url=live_server.url, callback_delay=0.05).start()
    settings.TWILIO_API_BASE_URL = box.url
    yield box
    box.stop()


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert found, f"no {name} on the page"
    return html.unescape(found.group(1))


def login(base: str, username: str, password: str = PASSWORD) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/accounts/login/", timeout=10).text
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": hidden(form, "csrfmiddlewaretoken"),
        },
        timeout=10,
    )
    assert response.status_code == 200 and "sessionid" in session.cookies
    return session


def conversation_item(page: str, message_id: int) -> str:
    return page.split(f'id="message-{message_id}"')[1].split("</li>")[0]


def test_a_text_sent_from_the_person_page_comes_back_delivered_through_the_webhook(
    live_server: Any, demo: Sandbox
) -> None:
    # The embedded default: the Twilio sandbox, tasks in-process.
    assert django_settings.TWILIO_SANDBOX
    pool_numbers(1)
    advisor = factories.staff(user=factories.UserFactory(username="advisor1"))
    student, phone = student_with_phone()
    session = login(live_server.url, "advisor1")

    page = session.get(f"{live_server.url}/people/{student.pk}/", timeout=10).text
    action = re.search(r'<form method="post" action="([^"]+)" data-compose', page)
    assert action is not None and action.group(1) == f"/people/{student.pk}/send/"
    sent = session.post(
        f"{live_server.url}{action.group(1)}",
        data={"body": "See you at 3?", "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken")},
        timeout=10,
    )

    text = Message.objects.get(sender=advisor, recipient=student)
    assert sent.status_code == 200
    # The redirect was followed to the new message in the conversation.
    assert sent.url == f"{live_server.url}/people/{student.pk}/#message-{text.pk}"
    item = conversation_item(sent.text, text.pk)
    assert "See you at 3?" in item and '<span class="badge">SMS</span>' in item
    assert f"to {phone.number}" in item
    [create] = demo.creates()
    assert (create["form"]["To"], create["form"]["Body"]) == (phone.number, "See you at 3?")
    assert create["form"]["StatusCallback"] == (
        f"{live_server.url}/twilio/sms/status/?token={text.token}"
    )

    demo.wait_callbacks()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text.refresh_from_db()
        if text.status == Status.DELIVERED:
            break
        time.sleep(0.05)

    assert (text.channel, text.status) == (Channel.SMS, Status.DELIVERED)
    assert demo.messages[text.twilio_sid]["status"] == "delivered"
    assert [(c["MessageStatus"], c["_http"]) for c in demo.callbacks_log] == [
        ("sent", 204),
        ("delivered", 204),
    ]
    assert {c["url"] for c in demo.callbacks_log} == {
        f"{live_server.url}/twilio/sms/status/?token={text.token}"
    }
    later = session.get(f"{live_server.url}/people/{student.pk}/", timeout=10).text
    assert '<span class="badge badge-ok">delivered</span>' in conversation_item(later, text.pk)

    # The Twilio tab's health line (C9) saw those callbacks arrive.
    factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    tab = login(live_server.url, "root").get(
        f"{live_server.url}{reverse('sms-config-twilio')}", timeout=10
    )
    line = tab.text.split('id="health-line">')[1].split("</dd>")[0]
    received = WebhookReceipt.objects.get(kind=WebhookKind.STATUS).last_received_at
    assert f"last status callback received {timezone.localtime(received):%Y-%m-%d %H:%M}" in line
