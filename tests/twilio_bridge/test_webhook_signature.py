"""X-Twilio-Signature on both webhooks (T1): real signatures, forged, missing, other URLs."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from messaging.models import Message, Status
from people.models import PhoneStatusChange, SmsStatus
from sms_admin import selectors as sms_admin_selectors
from sms_admin.models import WebhookKind
from tests.twilio_bridge.webhook_client import (
    FORM,
    INBOUND_PATH,
    STATUS_PATH,
    World,
    inbound_params,
    new_sid,
    sign,
    signed_post,
    status_params,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: Any) -> World:
    return World()


def stop_params(world: World) -> dict[str, str]:
    return inbound_params(
        sid=new_sid(),
        from_number=world.cell.number,
        to_number=world.sender_number.number,
        body="STOP",
    )


def nothing_changed(world: World, text: Message | None = None) -> bool:
    world.cell.refresh_from_db()
    unchanged_text = True
    if text is not None:
        text.refresh_from_db()
        unchanged_text = text.status == Status.SENT
    return (
        unchanged_text
        and world.cell.sms_status == SmsStatus.ENABLED
        and not PhoneStatusChange.objects.exists()
        and not Message.objects.filter(direction="inbound").exists()
        and mail.outbox == []
    )


@pytest.mark.parametrize("path", [STATUS_PATH, INBOUND_PATH])
def test_a_request_without_a_signature_is_refused_with_403_and_changes_nothing(
    world: World, path: str
) -> None:
    text = world.outbound_text()
    params = (
        status_params(text.twilio_sid, "failed", 30005)
        if path == STATUS_PATH
        else stop_params(world)
    )

    response = Client().post(path, data=urlencode(params), content_type=FORM)

    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.json()["detail"]
    assert nothing_changed(world, text)


@pytest.mark.parametrize("path", [STATUS_PATH, INBOUND_PATH])
def test_a_forged_signature_is_refused_with_403_and_changes_nothing(
    world: World, path: str
) -> None:
    text = world.outbound_text()
    params = (
        status_params(text.twilio_sid, "failed", 30005)
        if path == STATUS_PATH
        else stop_params(world)
    )

    response = signed_post(Client(), path, params, signature="bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==")

    assert response.status_code == 403
    assert nothing_changed(world, text)


def test_a_signature_made_with_another_auth_token_is_refused(world: World) -> None:
    from twilio.request_validator import RequestValidator

    text = world.outbound_text()
    params = status_params(text.twilio_sid, "failed", 30005)

    forged = RequestValidator("someone-elses-token").compute_signature(
        settings.PUBLIC_BASE_URL + STATUS_PATH, params
    )

    response = signed_post(Client(), STATUS_PATH, params, signature=forged)

    assert response.status_code == 403
    assert nothing_changed(world, text)


@pytest.mark.parametrize(
    "other_url",
    [
        "http://127.0.0.1:8000/twilio/sms/inbound/",
        "https://attacker.example.com/twilio/sms/status/",
        "http://127.0.0.1:8000/twilio/sms/status/?token=00000000-0000-0000-0000-000000000000",
    ],
)
def test_a_signature_over_another_url_is_refused(world: World, other_url: str) -> None:
    text = world.outbound_text()

    response = signed_post(
        Client(), STATUS_PATH, status_params(text.twilio_sid, "failed", 30005), signed_url=other_url
    )

    assert response.status_code == 403
    assert nothing_changed(world, text)


@pytest.mark.parametrize(
    ("name", "value"),
    [("MessageStatus", "delivered"), ("ErrorCode", "30003"), ("MessageSid", new_sid())],
)
def test_a_valid_request_with_one_parameter_changed_is_refused(
    world: World, name: str, value: str
) -> None:
    text = world.outbound_text()
    params = status_params(text.twilio_sid, "failed", 30005)
    signature = sign(settings.PUBLIC_BASE_URL + STATUS_PATH, params)

    response = signed_post(Client(), STATUS_PATH, {**params, name: value}, signature=signature)

    assert response.status_code == 403
    assert nothing_changed(world, text)


def test_a_parameter_added_to_a_signed_request_is_refused(world: World) -> None:
    text = world.outbound_text()
    params = status_params(text.twilio_sid, "delivered")
    signature = sign(settings.PUBLIC_BASE_URL + STATUS_PATH, params)

    response = signed_post(
        Client(), STATUS_PATH, {**params, "ErrorCode": "30005"}, signature=signature
    )

    assert response.status_code == 403
    assert nothing_changed(world, text)


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"MessageStatus": "delivered"}, "MessageSid is required"),
        ({"MessageSid": "not-a-sid", "MessageStatus": "delivered"}, "not a Twilio SID"),
        ({"MessageSid": "SM" + "a" * 32}, "MessageStatus is required"),
        (
            {"MessageSid": "SM" + "a" * 32, "MessageStatus": "failed", "ErrorCode": "abc"},
            "not a number",
        ),
        ({}, "MessageSid is required"),
    ],
)
def test_a_malformed_status_callback_is_answered_400_with_a_message(
    world: World, params: dict[str, str], detail: str
) -> None:
    response = signed_post(Client(), STATUS_PATH, params)

    assert response.status_code == 400
    assert detail in response.json()["detail"]


def test_a_malformed_token_in_the_callback_url_is_answered_400(world: World) -> None:
    text = world.outbound_text()

    response = signed_post(
        Client(), STATUS_PATH, status_params(text.twilio_sid, "delivered"), query="token=oops"
    )

    assert response.status_code == 400
    text.refresh_from_db()
    assert text.status == Status.SENT


@pytest.mark.parametrize(
    "params",
    [
        {"MessageSid": "SM" + "b" * 32, "To": "+12015550100", "Body": "hi"},
        {"From": "+12025550100", "To": "+12015550100", "Body": "hi"},
        {"MessageSid": "SM" + "b" * 32, "From": "+1" + "2" * 30, "To": "+12015550100"},
    ],
)
def test_a_malformed_inbound_message_is_answered_400_and_not_recorded(
    world: World, params: dict[str, str]
) -> None:
    response = signed_post(Client(), INBOUND_PATH, params)

    assert response.status_code == 400
    assert response.json()["detail"]
    assert not Message.objects.filter(direction="inbound").exists()


@pytest.mark.parametrize("path", [STATUS_PATH, INBOUND_PATH])
def test_get_is_not_allowed(path: str) -> None:
    assert Client().get(path).status_code == 405


def test_a_status_callback_url_with_a_query_string_and_awkward_form_values_is_accepted(
    world: World,
) -> None:
    text = world.outbound_text(sid=None, status=Status.SENDING)
    sid = new_sid()
    params = {
        **status_params(sid, "delivered"),
        "Note": 'a "quoted" value with spaces, a + plus & ampersand, ünïcödé ✓ 🙂',
    }
    query = f"token={text.token}&label={quote('Fall term + “advising”')}&empty="

    response = signed_post(Client(), STATUS_PATH, params, query=query)

    assert response.status_code == 204
    text.refresh_from_db()
    assert text.status == Status.DELIVERED
    assert text.twilio_sid == sid


def test_an_inbound_body_with_spaces_quotes_plus_and_non_ascii_text_is_accepted_verbatim(
    world: World,
) -> None:
    body = '  Oui, "demain" à 10h + café ☕ — d\'accord?  '
    params = inbound_params(
        sid=new_sid(),
        from_number=world.cell.number,
        to_number=world.sender_number.number,
        body=body,
    )

    response = signed_post(Client(), INBOUND_PATH, params)

    assert response.status_code == 200
    assert Message.objects.get(twilio_sid=params["MessageSid"]).body == body


def test_behind_a_tls_proxy_the_signature_is_checked_against_the_public_https_url(
    world: World, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = "https://sms.example.edu"
    settings.ALLOWED_HOSTS = ["internal-app"]
    text = world.outbound_text()
    params = status_params(text.twilio_sid, "delivered")

    # The proxy terminates TLS and forwards over http to the app's internal host name.
    response = signed_post(
        Client(),
        STATUS_PATH,
        params,
        signed_url="https://sms.example.edu" + STATUS_PATH,
        HTTP_HOST="internal-app",
        HTTP_X_FORWARDED_PROTO="http",
    )

    assert response.status_code == 204
    text.refresh_from_db()
    assert text.status == Status.DELIVERED


def test_behind_a_tls_proxy_a_signature_over_the_internal_http_url_is_refused(
    world: World, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = "https://sms.example.edu"
    text = world.outbound_text()

    response = signed_post(
        Client(),
        STATUS_PATH,
        status_params(text.twilio_sid, "delivered"),
        signed_url="http://testserver" + STATUS_PATH,
    )

    assert response.status_code == 403


def test_a_signature_over_the_public_url_with_its_default_port_is_accepted(
    world: World, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = "https://sms.example.edu"
    text = world.outbound_text()

    response = signed_post(
        Client(),
        STATUS_PATH,
        status_params(text.twilio_sid, "delivered"),
        signed_url="https://sms.example.edu:443" + STATUS_PATH,
    )

    assert response.status_code == 204


def test_a_signed_status_callback_is_remembered_for_the_health_line(world: World) -> None:
    text = world.outbound_text()

    signed_post(Client(), STATUS_PATH, status_params(text.twilio_sid, "delivered"))

    assert sms_admin_selectors.webhook_receipt_last(kind=WebhookKind.STATUS) is not None
    assert sms_admin_selectors.webhook_receipt_last(kind=WebhookKind.INBOUND) is None


def test_a_refused_callback_is_not_remembered_for_the_health_line(world: World) -> None:
    text = world.outbound_text()

    signed_post(Client(), STATUS_PATH, status_params(text.twilio_sid, "delivered"), signature="x")

    assert sms_admin_selectors.webhook_receipt_last(kind=WebhookKind.STATUS) is None
