"""`manage.py run_sandbox`: the local Twilio sandbox in the foreground (Ctrl-C stops it)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from twilio_bridge.sandbox import Sandbox


class Command(BaseCommand):
    help = "Run the local Twilio sandbox (Messages API, signed status callbacks, inbound SMS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.SANDBOX_PORT)
        parser.add_argument(
            "--callback-delay",
            type=float,
            default=0.5,
            help="seconds between a message's accepted, sent and delivered callbacks",
        )
        parser.add_argument(
            "--no-callbacks", action="store_true", help="post no status callbacks (benchmarks)"
        )
        parser.add_argument(
            "--no-log", action="store_true", help="keep no request log (long benchmark runs)"
        )
        parser.add_argument(
            "--inbound",
            nargs=3,
            metavar=("FROM", "TO", "BODY"),
            help="post one signed inbound SMS to PUBLIC_BASE_URL/twilio/sms/inbound/ and exit",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sandbox = Sandbox(
            host=options["host"],
            port=options["port"],
            callback_delay=options["callback_delay"],
            callbacks=not options["no_callbacks"],
            record_requests=not options["no_log"],
        )
        if options["inbound"]:
            from_, to, body = options["inbound"]
            sid, status = sandbox.inbound(from_=from_, to=to, body=body)
            self.stdout.write(f"Inbound {sid} from {from_} to {to}: webhook answered {status}")
            return
        sandbox.start()
        self.stdout.write(
            f"Twilio sandbox on {sandbox.url} (account {sandbox.account_sid}); "
            f"callbacks go to the StatusCallback of each message. Ctrl-C to stop."
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            sandbox.stop()
