"""Posting webhooks the way Twilio does: form-encoded, signed for real with the auth token."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.test import Client
from twilio.request_validator import RequestValidator

STATUS_PATH = "/twilio/sms/status/"
INBOUND_PATH = "/twilio/sms/inbound/"
FORM = "application/x-www-form-urlencoded"


def new_sid(prefix: str = "SM") -> str:
    return f"{prefix}{uuid.uuid4().hex}"


def sign(url: str, params: dict[str, str]) -> str:
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)


def signed_post(
    client: Client,
    path: str,
    params: dict[str, str],
    *,
    query: str = "",
    signed_url: str | None = None,
    signature: str | None = None,
    **extra: Any,
) -> Any:
    """POST `params` to `path?query`, signed over the public URL (or `signed_url`)."""
    full_path = path + (f"?{query}" if query else "")
    url = signed_url or settings.PUBLIC_BASE_URL + full_path
    header = sign(url, params) if signature is None else signature
    return client.post(
        full_path,
        data=urlencode(params),
        content_type=FORM,
        HTTP_X_TWILIO_SIGNATURE=header,
        **extra,
    )


def status_params(sid: str, status: str, error_code: int | None = None) -> dict[str, str]:
    params = {
        "AccountSid": settings.TWILIO_ACCOUNT_SID,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": "+12025550100",
        "From": "+12015550100",
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    return params


def inbound_params(
    *, sid: str, from_number: str, to_number: str, body: str, opt_out_type: str = ""
) -> dict[str, str]:
    params = {
        "AccountSid": settings.TWILIO_ACCOUNT_SID,
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "From": from_number,
        "To": to_number,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }
    if opt_out_type:
        params["OptOutType"] = opt_out_type
    return params


class World:
    """An advisor with a system number and a student with two phones (cell enabled, home)."""

    def __init__(self) -> None:
        from people.models import SYSTEM_PHONE_TYPE_SRC, SmsStatus
        from sms_admin.models import SenderAssignment
        from tests import factories

        cell = factories.PhoneTypeFactory(code="cell")
        system_type = factories.PhoneTypeFactory(code="system", name="System")
        self.advisor = factories.staff(first_name="Alex", last_name="Advisor")
        self.advisor.email = "alex.advisor@example.edu"
        self.advisor.save()
        self.student = factories.student(first_name="Sam", last_name="Student")
        self.cell = factories.PhoneFactory(
            person=self.student,
            number="+12025550100",
            phone_type=cell,
            sms_status=SmsStatus.ENABLED,
        )
        self.home = factories.PhoneFactory(
            person=self.student, number="+12025550111", phone_type=cell
        )
        self.sender_number = factories.SenderNumberFactory(number="+12015550100")
        self.system_phone = factories.PhoneFactory(
            person=self.advisor,
            number=self.sender_number.number,
            phone_type=system_type,
            src_system_id=f"{self.advisor.pk}.AVISO.SMS",
            phone_type_src_system_id=SYSTEM_PHONE_TYPE_SRC,
        )
        SenderAssignment.objects.create(
            sender_number=self.sender_number, person=self.advisor, phone=self.system_phone
        )

    def outbound_text(self, *, sid: str | None = "new", **fields: Any) -> Any:
        from messaging.models import Channel, Direction, Message, Status

        values: dict[str, Any] = {
            "direction": Direction.OUTBOUND,
            "sender": self.advisor,
            "recipient": self.student,
            "channel": Channel.SMS,
            "destination": self.cell.number,
            "from_number": self.sender_number.number,
            "phone": self.cell,
            "body": "Can we meet on Tuesday?",
            "status": Status.SENT,
            "twilio_sid": new_sid() if sid == "new" else sid,
        }
        values.update(fields)
        return Message.objects.create(**values)
