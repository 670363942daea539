"""`manage.py runserver_demo [addrport]`: the Twilio sandbox in the background, then runserver.

Texts sent from the browser reach the sandbox, which posts signed status callbacks back to
PUBLIC_BASE_URL, so they come back as delivered through the real webhook path.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from twilio_bridge.sandbox import Sandbox


class Command(BaseCommand):
    help = "Start the Twilio sandbox in the background, then the development server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--noreload", action="store_true")
        parser.add_argument("--callback-delay", type=float, default=0.5)

    def handle(self, *args: Any, **options: Any) -> None:
        sandbox: Sandbox | None = None
        # Under the autoreloader the server runs in a child process (RUN_MAIN=true); the
        # sandbox lives in the parent, which stays up across reloads, so it binds only once.
        if settings.TWILIO_SANDBOX and os.environ.get("RUN_MAIN") != "true":
            sandbox = Sandbox(port=settings.SANDBOX_PORT, callback_delay=options["callback_delay"])
            sandbox.start()
            self.stdout.write(f"Twilio sandbox on {sandbox.url}")
        try:
            call_command("runserver", options["addrport"], use_reloader=not options["noreload"])
        finally:
            if sandbox is not None:
                sandbox.stop()
