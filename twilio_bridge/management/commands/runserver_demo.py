"""`manage.py runserver_demo [addrport]`: the Twilio sandbox in the background, then runserver.

Texts sent from the browser reach the sandbox, which posts signed status callbacks back to
PUBLIC_BASE_URL, so they come back as delivered through the real webhook path. Without
PUBLIC_BASE_URL in the environment it is this server's own address (`addrport`), so the demo
works on any port.

Without a broker (tasks in-process, no beat) the server process also releases due scheduled texts
every minute in a background thread (messaging.release_loop).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from messaging.release_loop import ReleaseLoop
from twilio_bridge.sandbox import Sandbox


def public_base_url_for(addrport: str) -> str:
    """The origin the sandbox calls back for a development server on `addrport`
    ("8000", "127.0.0.1:8000", "0.0.0.0:8000", "[::1]:8000")."""
    host, _, port = addrport.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if host in ("0.0.0.0", "::", "0"):  # noqa: S104 (a comparison; nothing binds here)
        host = "127.0.0.1"  # listening everywhere: call back on this machine
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Command(BaseCommand):
    help = "Start the Twilio sandbox in the background, then the development server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--noreload", action="store_true")
        parser.add_argument("--callback-delay", type=float, default=0.5)

    def handle(self, *args: Any, **options: Any) -> None:
        sandbox: Sandbox | None = None
        if not os.environ.get("PUBLIC_BASE_URL"):
            # The environment carries it to runserver's autoreloaded child process too.
            os.environ["PUBLIC_BASE_URL"] = public_base_url_for(options["addrport"])
            settings.PUBLIC_BASE_URL = os.environ["PUBLIC_BASE_URL"]
        # Under the autoreloader the server runs in a child process (RUN_MAIN=true); the
        # sandbox lives in the parent, which stays up across reloads, so it binds only once.
        if settings.TWILIO_SANDBOX and os.environ.get("RUN_MAIN") != "true":
            sandbox = Sandbox(port=settings.SANDBOX_PORT, callback_delay=options["callback_delay"])
            sandbox.start()
            self.stdout.write(
                f"Twilio sandbox on {sandbox.url}; status callbacks to {settings.PUBLIC_BASE_URL}"
            )
        # The loop runs where requests are served: the reloader's child, or the only process.
        releases: ReleaseLoop | None = None
        serving = options["noreload"] or os.environ.get("RUN_MAIN") == "true"
        if settings.CELERY_TASK_ALWAYS_EAGER and serving:
            releases = ReleaseLoop().start()
        try:
            call_command("runserver", options["addrport"], use_reloader=not options["noreload"])
        finally:
            if releases is not None:
                releases.stop()
            if sandbox is not None:
                sandbox.stop()
