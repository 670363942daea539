"""The embedded default (tasks in-process, no beat) releases due scheduled texts too: the
development server's background loop sends them through the sandbox."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from messaging import services
from messaging.models import Message, Status
from messaging.release_loop import ReleaseLoop
from tests import factories
from tests.sending_support import policy_defaults_ensure, pool_numbers, sandbox, student_with_phone
from twilio_bridge.management.commands import runserver_demo

__all__ = ["sandbox"]


@pytest.fixture
def loop() -> Iterator[list[ReleaseLoop]]:
    started: list[ReleaseLoop] = []
    yield started
    for each in started:
        each.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sandbox")
def test_the_loop_sends_a_due_text_in_process(config: Any, loop: list[ReleaseLoop]) -> None:
    policy_defaults_ensure()
    pool_numbers(1)
    advisor = factories.staff(user=factories.UserFactory(username="advisor"))
    student, _ = student_with_phone()
    text = services.message_send(
        sender=advisor,
        recipient_id=student.pk,
        body="Hi",
        send_at=timezone.now() + timedelta(minutes=5),
    )
    Message.objects.filter(pk=text.pk).update(send_at=timezone.now() - timedelta(seconds=1))

    loop.append(ReleaseLoop(every=0.05).start())
    for _ in range(200):
        text.refresh_from_db()
        if text.status not in (Status.SCHEDULED, Status.QUEUED, Status.SENDING):
            break
        threading.Event().wait(0.05)

    assert text.status == Status.SENT
    assert text.twilio_sid


def test_runserver_demo_runs_the_loop_while_serving_without_a_broker(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.TWILIO_SANDBOX = False
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    seen: list[bool] = []

    def runserver(*args: Any, **kwargs: Any) -> None:
        seen.append(any(t.name == "release-scheduled" for t in threading.enumerate()))

    monkeypatch.setattr(runserver_demo, "call_command", runserver)
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    monkeypatch.setattr(ReleaseLoop, "_run", lambda self: self._stop.wait(30))

    runserver_demo.Command().handle(addrport="8000", noreload=True, callback_delay=0.5)

    assert seen == [True]
    assert not any(t.name == "release-scheduled" for t in threading.enumerate())
