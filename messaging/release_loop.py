"""The release of due scheduled texts without a beat process: the embedded default (`make run`,
tasks in-process, no Celery beat) runs this loop in a background thread of the development
server (twilio_bridge's `runserver_demo`), so scheduled texts and texts held by quiet hours go
out there too. With a broker, the beat job `release_scheduled_messages` does the same work;
both may run at once: a text is still released once (messaging.services.messages_release_due).
The loop also runs the pacer (messaging.pacing) about every second, as in-process there is no
broker to hold the pacer task's countdown.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import close_old_connections, connections

from messaging import pacing, services

logger = logging.getLogger(__name__)


class ReleaseLoop:
    """Every `every` seconds, release the scheduled texts that are due, and every `pace_every`
    seconds admit the paced texts whose second has come, until `stop()`."""

    def __init__(self, every: float = 60.0, pace_every: float = 1.0) -> None:
        self.every = every
        self.pace_every = min(pace_every, every)
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="release-scheduled", daemon=True)

    def start(self) -> ReleaseLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        next_release = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_release:
                next_release = time.monotonic() + self.every
                try:
                    close_old_connections()
                    released = services.messages_release_all_due()
                    if released:
                        logger.info("Released %s scheduled texts", released)
                except Exception:
                    # The next round tries again; the texts stay scheduled meanwhile.
                    logger.exception("Releasing scheduled texts failed")
                self.runs += 1
            try:
                close_old_connections()
                pacing.messages_pace()
            except Exception:
                # The next second tries again; the texts keep waiting meanwhile.
                logger.exception("Pacing texts failed")
            self._stop.wait(self.pace_every)
        connections.close_all()
