"""A real Celery worker (prefork, as `celery -A config worker` runs in production) holds a send
when its Redis is killed; Redis comes back empty a few seconds later. The worker stays up,
finishes the text it held, reconnects and sends the next one: every text once (config/
redis_broker.py; without it the worker exits with "Unrecoverable error: AttributeError", as
it does when, holding a task, it is also waiting on Redis for more work: two or more processes,
the production default).

The test starts and kills a redis-server of its own on a free port, never the shared one."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (set DATABASE_URL): the worker shares the test database",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


class RedisServer:
    """A redis-server of the test's own, without persistence: killed, it comes back empty."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server must be on the PATH (the test starts its own)"
        self.proc = subprocess.Popen(
            [
                binary,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert wait_for(self.answers, 10), "redis-server did not start"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL, as a crash: the worker's sockets are cut, nothing is saved."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis.log")
    server.start()
    yield server
    server.kill()


def start_worker(broker_url: str, sandbox: Sandbox, log: Path) -> subprocess.Popen[bytes]:
    """`celery -A config worker` with the production settings and its default pool (prefork),
    on the given Redis (broker and cache) and the test database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": (
            f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
            f"{connection.settings_dict['PORT']}/{connection.settings_dict['NAME']}"
        ),
        "REDIS_URL": broker_url,
        "CELERY_BROKER_URL": broker_url,
        "TWILIO_API_BASE_URL": sandbox.url,
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        # Two processes, so the worker also waits on Redis for more work while it holds the
        # task (with one it does not, and kombu's failure does not show).
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "-c",
            "2",
            "-l",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def publish_send(broker_url: str, message_id: int) -> None:
    """Publish the send task to the test's own Redis (not the broker the settings name)."""
    from config.celery import app
    from twilio_bridge import tasks

    with app.connection_for_write(broker_url) as broker, broker.Producer() as producer:
        tasks.send_sms.apply_async(kwargs={"message_id": message_id}, producer=producer)


def test_a_worker_holding_a_send_when_redis_dies_stays_up_and_sends_every_text_once(
    config: Any,
    advisor: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    redis_server: RedisServer,
) -> None:
    from config.celery import app

    policy_defaults_ensure()
    pool_numbers(1)
    first_student, _ = student_with_phone("+12025550101")
    second_student, _ = student_with_phone("+12025550102")
    monkeypatch.setattr(enqueue, "sms", lambda message_id: None)  # the test publishes
    first = services.message_send(sender=advisor, recipient_id=first_student.pk, body="First")
    second = services.message_send(sender=advisor, recipient_id=second_student.pk, body="Second")
    box = Sandbox(callbacks=False).start()
    # Twilio takes the first text and answers 8 s later: the worker holds the task meanwhile.
    box.hang_next(seconds=8, accept=True)
    log = tmp_path / "worker.log"
    worker = start_worker(redis_server.url, box, log)
    app.conf.task_always_eager = False  # the autouse celery_in_process fixture restores it

    def until(predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait for `predicate`, giving up early once the worker has exited."""
        return wait_for(lambda: worker.poll() is not None or predicate(), timeout) and (predicate())

    try:
        publish_send(redis_server.url, first.pk)
        assert wait_for(lambda: len(box.creates()) == 1, 60), log.read_text()[-4000:]

        redis_server.kill()
        assert wait_for(lambda: "Connection to broker lost" in log.read_text(), 15), (
            log.read_text()[-4000:]
        )
        time.sleep(3)  # an outage of a few seconds, not a blip
        redis_server.start()

        assert until(
            lambda: Message.objects.filter(pk=first.pk, status=Status.SENT).exists(), 30
        ), log.read_text()[-4000:]
        # The worker reconnected and takes new work.
        assert until(lambda: log.read_text().count("Connected to") >= 2, 30), log.read_text()[
            -4000:
        ]
        publish_send(redis_server.url, second.pk)
        assert until(
            lambda: Message.objects.filter(pk=second.pk, status=Status.SENT).exists(), 30
        ), log.read_text()[-4000:]

        assert worker.poll() is None, "the worker exited:\n" + log.read_text()[-4000:]
        assert "Unrecoverable error" not in log.read_text()
        assert sorted(c["form"]["To"] for c in box.creates()) == ["+12025550101", "+12025550102"]
        first.refresh_from_db()
        assert first.twilio_sid in box.messages
    finally:
        app.conf.task_always_eager = True
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)
        box.stop()
