"""Seed outbound texts and write wrk scripts of signed status callbacks for them.

Usage: python bench/webhooks/prepare.py N OUTDIR  (DJANGO_SETTINGS_MODULE, DATABASE_URL and
PUBLIC_BASE_URL set; PUBLIC_BASE_URL must be the server's address.)

Writes OUTDIR/product.lua (callbacks to /twilio/sms/status/?token=..., as the send task's
status callback URL carries our token) and OUTDIR/reference.lua (the same callbacks to the
reference view), each for its own N fresh texts, so every request is a real state change.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from messaging.models import Channel, Direction, Message, Status  # noqa: E402

VALIDATOR = RequestValidator(settings.TWILIO_AUTH_TOKEN)


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def seed(n: int, label: str) -> list[Message]:
    texts = [
        Message(
            direction=Direction.OUTBOUND,
            channel=Channel.SMS,
            destination="+12025550100",
            from_number="+12015550100",
            body=f"bench {label} {i}",
            status=Status.SENT,
            twilio_sid=f"SM{uuid.uuid4().hex}",
        )
        for i in range(n)
    ]
    return Message.objects.bulk_create(texts, batch_size=2000)


def script(texts: list[Message], path_for: dict[str, str]) -> str:
    rows = []
    for text in texts:
        sid = text.twilio_sid or ""
        params = {
            "AccountSid": settings.TWILIO_ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "From": text.from_number,
            "MessageSid": sid,
            "MessageStatus": "delivered",
            "SmsSid": sid,
            "SmsStatus": "delivered",
            "To": text.destination,
        }
        path = path_for["path"].format(token=text.token)
        signature = VALIDATOR.compute_signature(settings.PUBLIC_BASE_URL + path, params)
        rows.append(
            f"{{{lua_string(path)},{lua_string(urlencode(params))},{lua_string(signature)}}}"
        )
    return "return {\n" + ",\n".join(rows) + "\n}\n"


def main() -> None:
    n, outdir = int(sys.argv[1]), Path(sys.argv[2])
    outdir.mkdir(parents=True, exist_ok=True)
    Message.objects.filter(body__startswith="bench ").delete()
    product = seed(n, "product")
    reference = seed(n, "reference")
    (outdir / "product.lua").write_text(
        script(product, {"path": "/twilio/sms/status/?token={token}"})
    )
    (outdir / "reference.lua").write_text(script(reference, {"path": "/bench/reference/status/"}))
    # Statistics as a long-running table would have them, so both sides use their index.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE messaging_message")
    print(f"seeded {2 * n} texts; scripts in {outdir}", file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.webhooks.settings")
    main()
