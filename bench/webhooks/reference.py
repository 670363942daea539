"""The reference a webhook is measured against: verify the signature, one indexed UPDATE.

It is what the smallest correct status callback costs in this stack (Django, gunicorn,
PostgreSQL), with none of the product's parsing, lookup by token or policy.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

VALIDATOR = RequestValidator(settings.TWILIO_AUTH_TOKEN)


@csrf_exempt
@require_POST
def status_reference(request: HttpRequest) -> HttpResponse:
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    if not VALIDATOR.validate(url, request.POST, request.headers.get("X-Twilio-Signature", "")):
        return HttpResponse(status=403)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE messaging_message SET status = %s, updated_at = now() "
            "WHERE twilio_sid = %s AND status IN ('queued', 'sending', 'sent')",
            [request.POST["MessageStatus"], request.POST["MessageSid"]],
        )
    return HttpResponse(status=204)
