"""A real Celery worker on Redis and PostgreSQL is killed mid-send; the broker redelivers the
task to a new worker, which sends nothing twice (a single text: nothing; a batch: the texts not
yet sent); the sweep settles the text that was in flight by looking it up (S6)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from messaging import enqueue, services
from messaging.models import Message, Status
from tests.sending_support import policy_defaults_ensure, pool_numbers, student_with_phone
from twilio_bridge.sandbox import Sandbox

ROOT = Path(settings.BASE_DIR)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"),
        reason="needs PostgreSQL and Redis (set DATABASE_URL and REDIS_URL): a real worker "
        "shares the test database through the broker",
    ),
]


def start_worker(queue: str, sandbox: Sandbox, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "DATABASE_URL": (
            f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
            f"{connection.settings_dict['PORT']}/{connection.settings_dict['NAME']}"
        ),
        "TWILIO_API_BASE_URL": sandbox.url,
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "-Q",
            queue,
            "-l",
            "INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def kill_mid_send_then_redeliver(
    enqueue: Callable[[str], Any], box: Sandbox, tmp_path: Path, redelivered_marker: str
) -> None:
    """A worker takes the task `enqueue(queue)` publishes; once the sandbox has a text (the
    first one's answer held back by `hang_next`), the worker is SIGKILLed. The broker redelivers the
    task to a second worker, whose log must show `redelivered_marker` (the task's result)."""
    from config.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    first = start_worker(queue, box, tmp_path / "first.log")
    second = None
    app.conf.task_always_eager = False  # the autouse celery_in_process fixture restores it
    try:
        enqueue(queue)
        reached = wait_for(lambda: len(box.creates()) >= 1, timeout=60)
        assert reached, "FIRST " + (tmp_path / "first.log").read_text()
        os.killpg(first.pid, signal.SIGKILL)  # the worker dies mid-send
        first.wait(timeout=10)

        second = start_worker(queue, box, tmp_path / "second.log")
        redelivered = wait_for(
            lambda: redelivered_marker in (tmp_path / "second.log").read_text(), timeout=60
        )
        assert redelivered, "SECOND " + (tmp_path / "second.log").read_text()
    finally:
        app.conf.task_always_eager = True
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
        box.stop()


def sweep_against(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """Run the sweep with Twilio holding what `box` accepted (a fresh sandbox); returns it."""
    from messaging import sending
    from twilio_bridge import gateway

    restarted = Sandbox(callbacks=False).start()
    restarted.messages.update(box.messages)
    monkeypatch.setattr(settings, "TWILIO_API_BASE_URL", restarted.url)
    monkeypatch.setattr(settings, "SMS_STUCK_AFTER_SECONDS", 0)
    try:
        sending.messages_sweep(gateway=gateway.from_settings())
    finally:
        restarted.stop()
    return restarted


def test_a_task_redelivered_after_its_worker_was_killed_mid_send_sends_nothing_twice(
    config: Any,
    advisor: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from twilio_bridge import tasks

    policy_defaults_ensure()
    pool_numbers(1)
    student, _ = student_with_phone()
    queued: list[int] = []
    monkeypatch.setattr(enqueue, "sms", queued.append)
    text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
    box = Sandbox(callbacks=False).start()
    box.hang_next(seconds=20, accept=True)  # Twilio takes it, the answer is slow

    kill_mid_send_then_redeliver(
        lambda queue: tasks.send_sms.apply_async(kwargs={"message_id": text.pk}, queue=queue),
        box,
        tmp_path,
        "'skipped'",
    )

    assert len(box.creates()) == 1
    text.refresh_from_db()
    assert text.status == Status.SENDING
    # The sweep looks the text up at Twilio and finds it: no second request.
    restarted = sweep_against(box, monkeypatch)
    text.refresh_from_db()
    assert (text.status, text.twilio_sid) == (Status.SENT, next(iter(box.messages)))
    assert restarted.creates() == []


def test_a_batch_redelivered_after_its_worker_was_killed_sends_the_rest_once(
    config: Any,
    advisor: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from messaging import sending
    from twilio_bridge import tasks

    policy_defaults_ensure()
    pool_numbers(1)
    people = [student_with_phone(f"+120255590{i:02d}")[0] for i in range(6)]
    batches: list[list[int]] = []
    monkeypatch.setattr(enqueue, "sms_batches", lambda ids: batches.append(list(ids)))
    services.message_send_bulk(sender=advisor, recipient_ids=[p.pk for p in people], body="Hi")
    [ids] = batches
    box = Sandbox(callbacks=False).start()
    box.hang_next(seconds=20, accept=True)  # Twilio takes the first text, the answer is slow

    kill_mid_send_then_redeliver(
        lambda queue: tasks.send_sms_batch.apply_async(kwargs={"message_ids": ids}, queue=queue),
        box,
        tmp_path,
        "succeeded in",
    )

    killed_and_redelivered_settle(ids, box, monkeypatch, sending.IN_FLIGHT)


def killed_and_redelivered_settle(
    ids: list[int], box: Sandbox, monkeypatch: pytest.MonkeyPatch, in_flight: int
) -> None:
    """After the kill and the redelivered task: no text was requested twice, at most the texts
    in flight are left in `sending`, and the sweep settles them by looking them up (a text
    claimed whose request never left fails with NEEDS_REVIEW and its email), making no request."""
    creates = [c["form"]["To"] for c in box.creates()]
    assert len(creates) == len(set(creates)) <= len(ids)
    statuses = dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert Status.QUEUED not in statuses.values()
    # The text whose answer never came is one of them.
    assert 1 <= list(statuses.values()).count(Status.SENDING) <= in_flight
    restarted = sweep_against(box, monkeypatch)
    assert restarted.creates() == []
    settled = Message.objects.filter(pk__in=ids)
    assert settled.filter(status=Status.SENT).count() == len(creates)
    assert set(settled.exclude(status=Status.SENT).values_list("failure_reason", flat=True)) <= {
        "NEEDS_REVIEW"
    }
