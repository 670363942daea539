"""Twilio's webhooks (T1-T8): signed, validated, then one service call, answered fast.

`POST /twilio/sms/status/` answers 204; `POST /twilio/sms/inbound/` answers TwiML (empty, or the
help text for HELP/INFO). A missing or wrong signature is 403, a malformed payload 400, both as
JSON with a message; nothing is written in either case.
"""

from __future__ import annotations

import logging
import re
import uuid
from xml.sax.saxutils import escape

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging import inbound, status
from sms_admin import services as sms_admin_services
from sms_admin.models import WebhookKind
from twilio_bridge.signature import twilio_signature_required

logger = logging.getLogger(__name__)

# Twilio SIDs: two letters and 32 hex digits; the local sandbox uses the same shape.
SID_PATTERN = re.compile(r"^[A-Z]{2}[0-9a-zA-Z]{32}$")
MAX_BODY = 20_000


class MalformedPayload(ValueError):
    pass


def _bad_request(detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=400)


def _sid(request: HttpRequest, *names: str) -> str:
    for name in names:
        value = request.POST.get(name, "").strip()
        if value:
            if not SID_PATTERN.match(value):
                raise MalformedPayload(f"{name} {value[:40]!r} is not a Twilio SID.")
            return value
    raise MalformedPayload(f"{names[0]} is required.")


def _error_code(request: HttpRequest) -> int | None:
    raw = request.POST.get("ErrorCode", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise MalformedPayload(f"ErrorCode {raw[:20]!r} is not a number.")
    code = int(raw)
    # Twilio sends ErrorCode=0 on some successful statuses.
    return code or None


MAX_SEGMENTS = 32767  # the column's range (PositiveSmallIntegerField)


def _num_segments(request: HttpRequest) -> int | None:
    """Twilio's NumSegments of an inbound text, or None when absent or not a whole number in
    1..MAX_SEGMENTS: the text is still recorded (never dropped), its segments counted from the
    body instead."""
    raw = request.POST.get("NumSegments", "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 5 and 0 < int(raw) <= MAX_SEGMENTS:
        return int(raw)
    return None


def _token(request: HttpRequest) -> uuid.UUID | None:
    raw = request.GET.get("token", "").strip()
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise MalformedPayload(f"token {raw[:40]!r} is not a message token.") from exc


@csrf_exempt
@require_POST
@twilio_signature_required
def sms_status(request: HttpRequest) -> HttpResponse:
    """Status callback: store the status (monotonic), apply the T3 policy on failure."""
    try:
        message_sid = _sid(request, "MessageSid", "SmsSid")
        twilio_status = (
            request.POST.get("MessageStatus", "") or request.POST.get("SmsStatus", "")
        ).strip()
        if not twilio_status:
            raise MalformedPayload("MessageStatus is required.")
        error_code = _error_code(request)
        token = _token(request)
    except MalformedPayload as exc:
        return _bad_request(str(exc))
    status.message_status_apply(
        message_sid=message_sid, twilio_status=twilio_status, token=token, error_code=error_code
    )
    sms_admin_services.webhook_receipt_record(kind=WebhookKind.STATUS)
    return HttpResponse(status=204)


def _twiml(reply: str | None) -> HttpResponse:
    inner = f"<Message>{escape(reply)}</Message>" if reply else ""
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>',
        content_type="text/xml; charset=utf-8",
    )


@csrf_exempt
@require_POST
@twilio_signature_required
def sms_inbound(request: HttpRequest) -> HttpResponse:
    """Inbound text: recorded once per MessageSid; keywords, replies and notifications."""
    try:
        message_sid = _sid(request, "MessageSid", "SmsMessageSid", "SmsSid")
        from_number = request.POST.get("From", "").strip()
        to_number = request.POST.get("To", "").strip()
        if not from_number or not to_number:
            raise MalformedPayload("From and To are required.")
        if len(from_number) > 20 or len(to_number) > 254:
            raise MalformedPayload("From or To is too long to be a phone number.")
        if "\x00" in from_number + to_number:
            raise MalformedPayload("From and To cannot contain NUL characters.")
        # A NUL cannot be stored (PostgreSQL text); the rest of the text is kept, never dropped.
        body = request.POST.get("Body", "").replace("\x00", "")
        if len(body) > MAX_BODY:
            raise MalformedPayload("Body is too long.")
    except MalformedPayload as exc:
        return _bad_request(str(exc))
    result = inbound.message_inbound_receive(
        message_sid=message_sid,
        from_number=from_number,
        to_number=to_number,
        body=body,
        opt_out_type=request.POST.get("OptOutType", "").strip(),
        num_segments=_num_segments(request),
    )
    sms_admin_services.webhook_receipt_record(kind=WebhookKind.INBOUND)
    return _twiml(result.reply)
