"""Waking the pacer without a worker process idle per number: with a broker, texts left to wait
publish one pacer task with a short countdown (a Redis flag set with NX keeps it one chain,
however many sends ask); the task runs again while texts wait and stops when none does; the
minute beat job restarts a lost chain. In-process (no broker) nothing is published: the release
loop runs the pacer every second."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from messaging import enqueue, send_queue, services, tasks
from messaging.models import Message, Status
from messaging.release_loop import ReleaseLoop
from people.models import Person
from sms_admin import services as sms_admin_services
from tests.sending_support import pool_numbers, sandbox, student_with_phone

__all__ = ["sandbox"]

pytestmark = pytest.mark.usefixtures("config", "policy")

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL): the wake flag lives there"
)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def with_broker(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Tasks go to a broker (not in-process); what would be published is recorded instead."""
    from config.celery import app

    settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]
    client = send_queue._redis()
    client.delete(send_queue.PACE_FLAG)
    app.conf.task_always_eager = False  # the autouse celery_in_process fixture restores it
    sent: list[Any] = []
    monkeypatch.setattr(
        enqueue, "_send", lambda name, kwargs, countdown=None: sent.append((name, countdown))
    )
    yield sent
    client.delete(send_queue.PACE_FLAG)


def _cohort(advisor: Person, count: int, capture: Any) -> None:
    people = [student_with_phone(f"+1202555{i:04d}")[0] for i in range(count)]
    with capture(execute=True):
        services.message_send_bulk(sender=advisor, recipient_ids=[p.pk for p in people], body="Hi")


def _pacer_tasks(sent: list[Any]) -> list[float | None]:
    return [countdown for name, countdown in sent if name == enqueue.PACE_SENDERS]


@needs_redis
def test_texts_left_to_wait_publish_one_pacer_task_with_a_short_countdown(
    with_broker: list[Any], clock: Any, advisor: Person, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sender_segments_per_second=1)
    pool_numbers(1)
    _cohort(advisor, 3, django_capture_on_commit_callbacks)
    # A second send while the wake is pending publishes no second chain.
    _cohort(advisor, 2, django_capture_on_commit_callbacks)

    assert _pacer_tasks(with_broker) == [1.0]
    assert send_queue._redis().ttl(send_queue.PACE_FLAG) > 0


@needs_redis
def test_the_pacer_task_runs_again_while_texts_wait_and_stops_when_none_does(
    with_broker: list[Any], clock: Any, advisor: Person, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sender_segments_per_second=1)
    pool_numbers(1)
    _cohort(advisor, 3, django_capture_on_commit_callbacks)
    with_broker.clear()

    for expected in (1, 1):
        clock.shift(timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.pace_senders() == expected
    assert _pacer_tasks(with_broker) == [1.0]

    with_broker.clear()
    clock.shift(timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.pace_senders() == 0
    assert _pacer_tasks(with_broker) == []
    assert not Message.objects.filter(leaves_at__isnull=False).exists()


@needs_redis
def test_the_minute_beat_job_restarts_a_lost_chain(
    with_broker: list[Any], clock: Any, advisor: Person, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sender_segments_per_second=1)
    pool_numbers(1)
    _cohort(advisor, 5, django_capture_on_commit_callbacks)
    # The pacer task was lost (a worker killed): its flag expires, nothing runs for a minute.
    send_queue._redis().delete(send_queue.PACE_FLAG)
    with_broker.clear()
    clock.shift(timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.release_scheduled_messages()

    assert Message.objects.filter(leaves_at__isnull=False).count() == 3
    assert _pacer_tasks(with_broker) == [1.0]


def test_in_process_nothing_is_published_and_the_release_loop_runs_the_pacer(
    transactional_db: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch, advisor: Person
) -> None:
    from tests.sending_support import policy_defaults_ensure

    policy_defaults_ensure()
    published: list[str] = []
    real = enqueue._send
    monkeypatch.setattr(
        enqueue,
        "_send",
        lambda name, kwargs, countdown=None: (published.append(name), real(name, kwargs))[1],
    )
    sms_admin_services.configuration_update(actor=None, sender_segments_per_second=1)
    pool_numbers(1)
    people = [student_with_phone(f"+1202555{i:04d}")[0] for i in range(3)]
    result = services.message_send_bulk(
        sender=advisor, recipient_ids=[p.pk for p in people], body="Hi"
    )
    assert Message.objects.filter(pk__in=result.message_ids, leaves_at__isnull=False).count() == 2
    assert enqueue.PACE_SENDERS not in published

    loop = ReleaseLoop(every=60, pace_every=0.05).start()
    try:
        for _ in range(200):
            if Message.objects.filter(status=Status.SENT).count() == 3:
                break
            threading.Event().wait(0.05)
    finally:
        loop.stop()
    assert Message.objects.filter(status=Status.SENT).count() == 3
