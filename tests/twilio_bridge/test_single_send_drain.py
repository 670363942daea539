"""Single texts sent faster than the worker sends them are taken in batches: each send joins a
waiting list in Redis, one drain task is published per burst, and the drain sends each text once,
also when its worker is killed mid-batch (a real Celery worker on PostgreSQL and Redis)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from messaging import enqueue, send_queue, sending, services
from messaging.models import Message, Status
from tests.sending_support import policy_defaults_ensure, pool_numbers, student_with_phone
from twilio_bridge import gateway
from twilio_bridge.sandbox import Sandbox

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs Redis (set REDIS_URL): the waiting list lives there",
)


@pytest.fixture
def with_broker(settings: Any) -> Iterator[None]:
    """Tasks go to the broker (not in-process), and the waiting list starts empty."""
    from config.celery import app

    settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]
    client = send_queue._redis()
    client.delete(send_queue.PENDING, send_queue.DRAIN_FLAG)
    app.conf.task_always_eager = False  # the autouse celery_in_process fixture restores it
    yield
    client.delete(send_queue.PENDING, send_queue.DRAIN_FLAG)
    for key in client.scan_iter(f"{send_queue.PENDING}:taken:*"):
        client.delete(key)


@pytest.fixture
def counted_redis(
    with_broker: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, list[bytes], list[bool]]:
    """The waiting list's client in this thread, counting its round trips to Redis: (the
    client, the commands sent, one round trip each, and a switch: count while its one item is
    True)."""
    import redis

    trips: list[bytes] = []
    counting = [True]

    class Counted(redis.connection.Connection):
        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            if counting[0]:
                trips.append(command)
            super().send_packed_command(command, check_health)

    url, timeout = settings.CELERY_BROKER_URL, settings.REDIS_SOCKET_TIMEOUT_SECONDS
    client = redis.Redis.from_url(url, socket_timeout=timeout, connection_class=Counted)
    monkeypatch.setattr(
        send_queue._local,
        "client",
        ((url, timeout), client, client.register_script(send_queue._PUSH)),
        raising=False,
    )
    return client, trips, counting


def recorded_texts(advisor: Any, people: list[Any], capture: Any) -> list[int]:
    """Texts to `people` recorded, not pushed onto the waiting list (the test pushes them)."""
    with capture(execute=False):
        return [
            services.message_send(sender=advisor, recipient_id=p.pk, body="Hi").pk for p in people
        ]


def send_texts(advisor: Any, people: list[Any], capture: Any) -> list[int]:
    ids = []
    for person in people:
        with capture(execute=True):
            ids.append(services.message_send(sender=advisor, recipient_id=person.pk, body="Hi").pk)
    return ids


def test_a_burst_of_single_sends_waits_in_one_list_and_publishes_one_drain(
    with_broker: None,
    config: Any,
    advisor: Any,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    drains: list[None] = []
    monkeypatch.setattr(enqueue, "drain", lambda: drains.append(None))
    pool_numbers(1)
    people = [student_with_phone(f"+12025557{i:03d}")[0] for i in range(5)]

    ids = send_texts(advisor, people, django_capture_on_commit_callbacks)

    assert len(drains) == 1
    assert send_queue.waiting() == 5
    outcomes = sending.sms_drain(holder="drain-1", gateway=gateway.from_settings())
    assert {pk: o.kind for pk, o in outcomes.items()} == dict.fromkeys(ids, "sent")
    assert [c["form"]["To"] for c in sandbox.creates()] == [f"+12025557{i:03d}" for i in range(5)]
    assert send_queue.waiting() == 0
    # The drain cleared its flag: the next text publishes a new drain.
    send_texts(advisor, people[:1], django_capture_on_commit_callbacks)
    assert len(drains) == 2


def test_a_drain_lingers_and_sends_a_text_pushed_meanwhile_without_a_new_drain(
    with_broker: None,
    config: Any,
    advisor: Any,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    import threading

    monkeypatch.setattr(enqueue, "drain", lambda: None)
    monkeypatch.setattr(send_queue, "LINGER_SECONDS", 2.0)
    pool_numbers(1)
    first, later = (student_with_phone(f"+12025554{i:03d}")[0] for i in range(2))
    (text_id,) = recorded_texts(advisor, [later], django_capture_on_commit_callbacks)
    pushed: list[bool] = []
    # Pushed once the drain, its list empty, waits for more (only Redis in that thread).
    arrivals: list[threading.Timer] = []
    wait = send_queue.wait

    def wait_while_a_text_arrives(count: int, *, holder: str, seconds: float) -> list[int]:
        if not arrivals:
            arrivals.append(threading.Timer(0.3, lambda: pushed.append(send_queue.push(text_id))))
            arrivals[0].start()
        return wait(count, holder=holder, seconds=seconds)

    monkeypatch.setattr(send_queue, "wait", wait_while_a_text_arrives)
    (earlier,) = send_texts(advisor, [first], django_capture_on_commit_callbacks)

    outcomes = sending.sms_drain(holder="drain-1", gateway=gateway.from_settings())
    arrivals[0].join()

    # The lingering drain held the flag: the late push published no drain, and it was sent.
    assert pushed == [False]
    assert {pk: o.kind for pk, o in outcomes.items()} == {earlier: "sent", text_id: "sent"}
    # Once nothing more came, the drain cleared its flag: the next push publishes a drain.
    assert send_queue.push(text_id) is True


def test_a_drain_of_texts_arriving_one_by_one_makes_one_redis_round_trip_a_text(
    with_broker: None,
    counted_redis: tuple[Any, list[bytes], list[bool]],
    config: Any,
    advisor: Any,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Each batch's end used to cost three (its list cleared, the drain's own list checked, the
    # next ids taken), and a wait two.
    monkeypatch.setattr(enqueue, "drain", lambda: None)
    monkeypatch.setattr(send_queue, "LINGER_SECONDS", 0)
    pool_numbers(1)
    people = [student_with_phone(f"+12025553{i:03d}")[0] for i in range(4)]
    ids = recorded_texts(advisor, people, django_capture_on_commit_callbacks)
    client, trips, counting = counted_redis
    send_queue.push(ids[0])
    arriving = iter(ids[1:])
    batch = sending.sms_send_batch

    def batch_while_the_next_arrives(**kwargs: Any) -> Any:
        # The next text comes while this one is sent (not counted: the sender's round trip).
        following = next(arriving, None)
        if following is not None:
            counting[0] = False
            send_queue.push(following)
            counting[0] = True
        return batch(**kwargs)

    monkeypatch.setattr(sending, "sms_send_batch", batch_while_the_next_arrives)
    trips.clear()

    outcomes = sending.sms_drain(holder="drain-1", gateway=gateway.from_settings())

    assert {pk: o.kind for pk, o in outcomes.items()} == dict.fromkeys(ids, "sent")
    assert [c["form"]["To"] for c in sandbox.creates()] == [f"+12025553{i:03d}" for i in range(4)]
    # Four to start (the flag cleared, its own list checked, the first taken, the backlog
    # checked), then one a text: its batch done and the next taken (the last finds none).
    assert len(trips) == 4 + len(ids)
    assert send_queue.waiting() == 0
    assert client.llen(f"{send_queue.PENDING}:taken:drain-1") == 0


def test_a_wait_takes_what_is_waiting_in_one_round_trip_or_nothing_when_none_comes(
    with_broker: None, counted_redis: tuple[Any, list[bytes], list[bool]]
) -> None:
    client, trips, _ = counted_redis
    client.rpush(send_queue.PENDING, 11, 12, 13)
    trips.clear()

    # The first id by the blocking move, the rest by the script sent with it.
    assert send_queue.wait(50, holder="drain-w", seconds=1) == [11, 12, 13]
    assert len(trips) == 1
    assert client.lrange(f"{send_queue.PENDING}:taken:drain-w", 0, -1) == [b"11", b"12", b"13"]
    assert send_queue.waiting() == 0

    # Nothing comes: [] once the wait is over, and nothing more moved.
    trips.clear()
    started = time.monotonic()
    assert send_queue.wait(50, holder="drain-w2", seconds=0.2) == []
    assert time.monotonic() - started >= 0.15
    assert len(trips) == 1
    assert client.llen(f"{send_queue.PENDING}:taken:drain-w2") == 0


def test_a_drain_redelivered_after_dying_mid_batch_finishes_its_own_batch_first(
    with_broker: None,
    config: Any,
    advisor: Any,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(enqueue, "drain", lambda: None)
    pool_numbers(1)
    people = [student_with_phone(f"+12025558{i:03d}")[0] for i in range(4)]
    first, second, *later = send_texts(advisor, people, django_capture_on_commit_callbacks)
    # A drain took the first two, sent the first, and died before finishing its batch.
    assert send_queue.take(2, holder="drain-1") == [first, second]
    sending.sms_send(message_id=first, gateway=gateway.from_settings())

    redelivered = sending.sms_drain(holder="drain-1", gateway=gateway.from_settings())

    # Its own batch first (the text already sent is skipped), then the rest of the list.
    assert {pk: o.kind for pk, o in redelivered.items()} == {
        second: "sent",
        **dict.fromkeys(later, "sent"),
    }
    assert sorted(c["form"]["To"] for c in sandbox.creates()) == [
        f"+12025558{i:03d}" for i in range(4)
    ]
    assert set(Message.objects.values_list("status", flat=True)) == {Status.SENT}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real worker needs PostgreSQL")
def test_a_real_worker_killed_mid_drain_sends_each_single_text_once(
    with_broker: None,
    config: Any,
    advisor: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.twilio_bridge.test_tasks_worker import (
        kill_mid_send_then_redeliver,
        killed_and_redelivered_settle,
    )
    from twilio_bridge import tasks

    policy_defaults_ensure()
    pool_numbers(1)
    people = [student_with_phone(f"+12025559{i:03d}")[0] for i in range(6)]
    monkeypatch.setattr(enqueue, "drain", lambda: None)  # published by hand, to the test queue
    ids = send_texts(advisor, people, django_capture_on_commit_callbacks)
    box = Sandbox(callbacks=False).start()
    box.hang_next(seconds=20, accept=True)  # Twilio takes the first text, the answer is slow

    kill_mid_send_then_redeliver(
        lambda queue: tasks.drain_sms.apply_async(queue=queue), box, tmp_path, "succeeded in"
    )

    killed_and_redelivered_settle(ids, box, monkeypatch, sending.IN_FLIGHT)


def test_a_backlog_calls_a_second_drain_to_share_it(
    with_broker: None,
    config: Any,
    advisor: Any,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drains: list[None] = []
    monkeypatch.setattr(enqueue, "drain", lambda: drains.append(None))
    monkeypatch.setattr(enqueue, "sms_batches", lambda ids: None)
    pool_numbers(1)
    people = [student_with_phone(f"+12025556{i:03d}")[0] for i in range(120)]
    recorded = services.message_send_bulk(
        sender=advisor, recipient_ids=[p.pk for p in people], body="Hi"
    )
    for pk in recorded.message_ids:
        send_queue.push(pk)

    outcomes = sending.sms_drain(holder="drain-1", gateway=gateway.from_settings())

    # 70 were still waiting after its first batch of 50: one more drain was called to help.
    assert len(drains) == 1
    assert len(outcomes) == 120
    assert len(sandbox.creates()) == 120


def test_a_single_send_with_redis_unreachable_is_recorded_and_left_for_the_sweep(
    with_broker: None,
    config: Any,
    advisor: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"
    pool_numbers(1)
    student, _ = student_with_phone()

    [pk] = send_texts(advisor, [student], django_capture_on_commit_callbacks)

    assert Message.objects.get(pk=pk).status == Status.QUEUED
