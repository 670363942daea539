"""A cohort's texts go to the worker a batch per task (`send_sms_batch`): one read of the texts,
one routing query, one configuration read per batch; each text is still claimed on its own, sent
once, routed again at send time, and its outcome handled as in a single send (S6, T3, R7)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import enqueue, sending, services
from messaging.models import Channel, FailureReason, Message, Status
from people.models import SmsStatus
from sms_admin import pool
from tests.sending_support import pool_numbers, student_with_phone
from twilio_bridge import gateway, tasks
from twilio_bridge.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("config", "policy")


def in_lanes(test: Any) -> Any:
    """A test of batches sent in lanes: PostgreSQL, outside a transaction."""
    for mark in (
        pytest.mark.skipif(
            connection.vendor != "postgresql",
            reason="lanes run on PostgreSQL outside a transaction (set DATABASE_URL=postgres://...)",
        ),
        pytest.mark.django_db(transaction=True),
        pytest.mark.postgres,
    ):
        test = mark(test)
    return test


def cohort(count: int, start: int = 0) -> list[Any]:
    return [student_with_phone(f"+120255560{start + i:02d}")[0] for i in range(count)]


def queue_cohort(
    advisor: Any, people: list[Any], monkeypatch: pytest.MonkeyPatch, body: str = "Hi"
) -> list[list[int]]:
    """Record a cohort's texts; returns the batches it queued (no task runs)."""
    batches: list[list[int]] = []
    monkeypatch.setattr(enqueue, "sms_batches", lambda ids: batches.append(list(ids)))
    services.message_send_bulk(sender=advisor, recipient_ids=[p.pk for p in people], body=body)
    return batches


def queue_email_cohort(
    advisor: Any, count: int, start: int, monkeypatch: pytest.MonkeyPatch
) -> list[int]:
    """Record a cohort whose phones are all SMS Disabled (so every message is an email); returns
    the one batch of emails it queued (no task runs)."""
    batches: list[list[int]] = []
    monkeypatch.setattr(enqueue, "email_batches", lambda ids: batches.append(list(ids)))
    people = [
        student_with_phone(f"+1202556{start + i:04d}", sms_status=SmsStatus.DISABLED)[0]
        for i in range(count)
    ]
    services.message_send_bulk(sender=advisor, recipient_ids=[p.pk for p in people], body="Hi")
    [ids] = batches
    return ids


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler catches it."""


def gateway_dies_on(call: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker is killed as it makes its `call`-th Twilio request (before it leaves)."""
    real_create = gateway.message_create
    calls: list[str] = []

    def create(**kwargs: Any) -> Any:
        calls.append(kwargs["to"])
        if len(calls) == call:
            raise WorkerKilled
        return real_create(**kwargs)

    monkeypatch.setattr(gateway, "message_create", create)


def first_text_throttled(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Twilio answers the next request 429; returns the retry tasks the batch publishes."""
    sandbox.fail_next(status=429, code=20429)
    published: list[dict[str, Any]] = []
    monkeypatch.setattr(tasks.send_sms, "apply_async", lambda **kw: published.append(kw))
    return published


def test_a_cohort_goes_to_the_worker_a_batch_of_messages_per_task(
    advisor: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from messaging import tasks as messaging_tasks

    monkeypatch.setattr(enqueue, "TASK_BATCH_SIZE", 4)
    pool_numbers(1)
    textable = cohort(10)
    by_email = [
        student_with_phone(f"+120255601{i:02d}", sms_status=SmsStatus.DISABLED)[0] for i in range(5)
    ]
    published: list[tuple[str, list[int]]] = []
    for task in (tasks.send_sms_batch, messaging_tasks.deliver_emails):
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda kwargs, t=task: published.append((t.name, kwargs["message_ids"])),
        )
    for task in (tasks.send_sms, messaging_tasks.deliver_email):
        monkeypatch.setattr(task, "apply_async", lambda **kw: pytest.fail("one task per message"))

    with django_capture_on_commit_callbacks(execute=True):
        result = services.message_send_bulk(
            sender=advisor, recipient_ids=[p.pk for p in [*textable, *by_email]], body="Hi"
        )

    sms = [ids for name, ids in published if name == tasks.send_sms_batch.name]
    emails = [ids for name, ids in published if name == messaging_tasks.deliver_emails.name]
    assert ([len(b) for b in sms], [len(b) for b in emails]) == ([4, 4, 2], [4, 1])
    for channel, batches in ((Channel.SMS, sms), (Channel.EMAIL, emails)):
        recorded = Message.objects.filter(channel=channel).values_list("pk", flat=True)
        assert sorted(pk for b in batches for pk in b) == sorted(recorded)
    assert result.counts == {("sms", ""): 10, ("email", "NO_SMS_PHONE"): 5}


def test_a_batch_of_emails_sends_each_once_and_a_redelivered_batch_sends_none_again(
    advisor: Any, mailoutbox: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from messaging import tasks as messaging_tasks

    ids = queue_email_cohort(advisor, 3, 200, monkeypatch)

    first = messaging_tasks.deliver_emails.run(message_ids=ids)
    again = messaging_tasks.deliver_emails.run(message_ids=ids)

    assert first == again == {"sent": 3}
    recipients = Message.objects.filter(pk__in=ids).values_list("recipient__email", flat=True)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(recipients)
    assert len(set(recipients)) == 3
    assert set(Message.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}


def test_a_batch_sends_each_text_once_with_its_sid_and_counts_each_once(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    people = cohort(6)

    with django_capture_on_commit_callbacks(execute=True):
        services.message_send_bulk(sender=advisor, recipient_ids=[p.pk for p in people], body="Hi")

    texts = Message.objects.filter(channel=Channel.SMS)
    assert sorted(texts.values_list("status", flat=True)) == [Status.SENT] * 6
    assert sorted(c["form"]["To"] for c in sandbox.creates()) == sorted(
        texts.values_list("destination", flat=True)
    )
    assert set(texts.values_list("twilio_sid", flat=True)) == set(sandbox.messages)
    assert pool.monthly_usage_summary().sent == 6


def test_a_redelivered_batch_sends_nothing_again_and_skips_texts_another_worker_holds(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_numbers(1)
    [ids] = queue_cohort(advisor, cohort(4), monkeypatch)
    held = services.message_sms_claim(message_id=ids[0])  # another worker is sending it
    assert held is not None

    first = sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)
    again = sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)

    assert sorted(first) == ids[1:]
    assert {o.kind for o in first.values()} == {"sent"}
    assert again == {}
    assert len(sandbox.creates()) == 3
    assert Message.objects.get(pk=ids[0]).status == Status.SENDING


def test_a_phone_disabled_after_queuing_is_not_texted_the_rest_of_the_batch_is(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_numbers(1)
    people = cohort(3)
    [ids] = queue_cohort(advisor, people, monkeypatch)
    stopped = people[1].phones.get()
    stopped.sms_status = SmsStatus.DISABLED
    stopped.save()

    outcomes = sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)

    assert [outcomes[pk].kind for pk in ids] == ["sent", "failed", "sent"]
    assert stopped.number not in [c["form"]["To"] for c in sandbox.creates()]
    fallback = Message.objects.get(replaces_id=ids[1])
    assert (fallback.channel, fallback.failure_reason) == (
        Channel.EMAIL,
        FailureReason.NO_SMS_PHONE,
    )
    assert pool.monthly_usage_summary().sent == 2  # the unit of the re-routed text came back


def test_a_refused_text_in_a_batch_applies_the_error_policy_and_falls_back_to_email(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_numbers(1)
    people = cohort(2)
    unsubscribed, phone = student_with_phone("+15005550004")  # Twilio answers 21610
    [ids] = queue_cohort(advisor, [people[0], unsubscribed, people[1]], monkeypatch)

    outcomes = sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)

    assert [outcomes[pk].kind for pk in ids] == ["sent", "failed", "sent"]
    refused = Message.objects.get(pk=ids[1])
    assert (refused.status, refused.failure_reason, refused.error_code) == (
        Status.FAILED,
        FailureReason.TWILIO_RECIPIENT_UNSUBSCRIBED,
        21610,
    )
    phone.refresh_from_db()
    assert phone.sms_status == SmsStatus.DISABLED
    assert Message.objects.filter(replaces_id=ids[1], channel=Channel.EMAIL).count() == 1
    assert pool.monthly_usage_summary().sent == 2


def test_a_throttled_text_goes_on_alone_with_a_backoff_while_the_batch_is_sent(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_numbers(1)
    [ids] = queue_cohort(advisor, cohort(3), monkeypatch)
    later = first_text_throttled(sandbox, monkeypatch)

    counts = tasks.send_sms_batch.run(message_ids=ids)

    assert counts == {"retry": 1, "sent": 2}
    [retry] = later
    assert retry["kwargs"] == {"message_id": ids[0]}
    assert 1.0 <= retry["countdown"] <= 2.0
    throttled = Message.objects.get(pk=ids[0])
    assert (throttled.status, throttled.attempts) == (Status.QUEUED, 1)
    assert len(sandbox.creates()) == 3  # the refused request, then the two others


def test_a_scheduled_retry_not_yet_due_is_left_queued_by_a_batch(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_numbers(1)
    [ids] = queue_cohort(advisor, cohort(2), monkeypatch)
    Message.objects.filter(pk=ids[0]).update(not_before=timezone.now() + timedelta(hours=1))

    outcomes = sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)

    assert list(outcomes) == [ids[1]]
    assert Message.objects.get(pk=ids[0]).status == Status.QUEUED


def test_a_sender_whose_number_was_released_gets_one_number_for_the_whole_batch(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = pool_numbers(2)
    [ids] = queue_cohort(advisor, cohort(3), monkeypatch)
    assignment = pool.sender_number_ensure(person=advisor)
    assert assignment is not None
    pool.sender_assignment_release(assignment_id=assignment.pk, actor=None)

    sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)

    senders = {c["form"]["From"] for c in sandbox.creates()}
    assert len(senders) == 1
    assert senders <= {first.number, second.number}
    held = pool.sender_assignment_active(advisor.pk)
    assert held is not None and held.sender_number.number in senders


def test_a_batch_costs_a_fixed_number_of_queries_and_one_per_text(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_numbers(1)
    [small] = queue_cohort(advisor, cohort(3), monkeypatch)
    [large] = queue_cohort(advisor, cohort(12, start=10), monkeypatch)

    def statements(ids: list[int]) -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            outcomes = sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)
        assert {o.kind for o in outcomes.values()} == {"sent"}
        return [q["sql"] for q in ctx.captured_queries]

    # Per batch: the texts, their recipients with phones, the configuration with the sender's
    # number, and the last text's acceptance. Per text: one UPDATE that claims it and writes the
    # acceptance of the text before it.
    assert len(statements(small)) == 3 + 3 + 1
    sql = statements(large)
    assert len(sql) == 3 + 12 + 1
    updates = [q for q in sql if q.replace('"', "").startswith("UPDATE messaging_message")]
    assert len(updates) == 12 + 1
    assert Message.objects.filter(pk__in=small + large, status=Status.SENT).count() == 15
    assert Message.objects.filter(pk__in=small + large, twilio_sid__isnull=True).count() == 0


def test_a_worker_killed_mid_batch_leaves_the_rest_queued_for_the_redelivered_task(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_numbers(1)
    [ids] = queue_cohort(advisor, cohort(4), monkeypatch)
    with monkeypatch.context() as killed:
        gateway_dies_on(2, killed)
        with pytest.raises(WorkerKilled):
            sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)

    statuses = dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == [
        Status.SENT,
        Status.SENDING,
        Status.QUEUED,
        Status.QUEUED,
    ]

    redelivered = sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)

    assert sorted(redelivered) == ids[2:]  # the text in flight is left for the sweep's lookup
    assert len(sandbox.creates()) == 3
    statuses = dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == [Status.SENT, Status.SENDING, Status.SENT, Status.SENT]


def test_a_cohort_failing_half_way_records_queues_and_counts_nothing(
    advisor: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    people = cohort(5)
    real = Message.objects.bulk_create
    calls: list[int] = []

    def fails_on_the_second_batch(objs: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(objs))
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(Message.objects, "bulk_create", fails_on_the_second_batch)
    with django_capture_on_commit_callbacks(execute=False) as queued, pytest.raises(RuntimeError):
        services.message_send_bulk(
            sender=advisor, recipient_ids=[p.pk for p in people], body="Hi", batch_size=2
        )

    assert calls == [2, 2]
    assert Message.objects.count() == 0
    assert queued == []
    assert pool.monthly_usage_summary().sent == 0


def test_a_throttled_texts_retry_is_published_at_once_even_if_the_batch_dies_later(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_numbers(1)
    [ids] = queue_cohort(advisor, cohort(3), monkeypatch)
    later = first_text_throttled(sandbox, monkeypatch)
    gateway_dies_on(3, monkeypatch)
    with pytest.raises(WorkerKilled):
        tasks.send_sms_batch.run(message_ids=ids)

    assert [kw["kwargs"] for kw in later] == [{"message_id": ids[0]}]
    assert Message.objects.get(pk=ids[0]).status == Status.QUEUED


def test_a_retry_the_broker_refuses_leaves_the_text_queued_and_the_batch_goes_on(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kombu.exceptions import OperationalError

    pool_numbers(1)
    [ids] = queue_cohort(advisor, cohort(3), monkeypatch)
    sandbox.fail_next(status=429, code=20429)

    def broker_down(**kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to redis")

    monkeypatch.setattr(tasks.send_sms, "apply_async", broker_down)

    counts = tasks.send_sms_batch.run(message_ids=ids)

    assert counts == {"retry": 1, "sent": 2}
    statuses = dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == [Status.QUEUED, Status.SENT, Status.SENT]


def test_a_batch_of_emails_shares_one_email_connection(
    advisor: Any, mailoutbox: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core import mail

    from messaging import tasks as messaging_tasks

    ids = queue_email_cohort(advisor, 3, 300, monkeypatch)
    opened: list[Any] = []
    real = mail.get_connection

    def counted(*args: Any, **kwargs: Any) -> Any:
        connection = real(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(mail, "get_connection", counted)

    messaging_tasks.deliver_emails.run(message_ids=ids)

    assert (len(opened), len(mailoutbox)) == (1, 3)


@in_lanes
def test_a_batch_outside_a_transaction_sends_in_lanes_each_text_once(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    pool_numbers(1)
    [ids] = queue_cohort(advisor, cohort(12), monkeypatch)
    threads: set[int] = set()
    real_create = gateway.message_create

    def create(**kwargs: Any) -> Any:
        threads.add(threading.get_ident())
        return real_create(**kwargs)

    monkeypatch.setattr(gateway, "message_create", create)

    outcomes = sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)
    again = sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)

    assert len(threads) == sending.IN_FLIGHT
    assert sorted(outcomes) == ids and {o.kind for o in outcomes.values()} == {"sent"}
    assert again == {}
    sent = [c["form"]["To"] for c in sandbox.creates()]
    assert len(sent) == len(set(sent)) == 12
    texts = Message.objects.filter(pk__in=ids)
    assert set(texts.values_list("status", flat=True)) == {Status.SENT}
    assert set(texts.values_list("twilio_sid", flat=True)) == set(sandbox.messages)


def _backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {row[0] for row in cursor.fetchall()}


@in_lanes
def test_the_helper_lanes_keep_their_connections_from_batch_to_batch_until_stopped(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A connection per lane per batch cost about 11 ms of CPU (client and server): a cohort of
    # 1,000 opened 60, a stream of single texts drained a few at a time one per text or more.
    import threading

    pool_numbers(1)
    first, second, third = (
        queue_cohort(advisor, cohort(8, 10 * i), monkeypatch)[0] for i in range(3)
    )
    lanes: list[set[tuple[int, int]]] = [set(), set(), set()]
    batch = [0]
    real_create = gateway.message_create

    def create(**kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            lanes[batch[0]].add((threading.get_ident(), connection.connection.get_backend_pid()))
        return real_create(**kwargs)

    monkeypatch.setattr(gateway, "message_create", create)

    sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=first)
    batch[0] = 1
    sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=second)

    assert len(lanes[0]) == sending.IN_FLIGHT - 1
    # The same threads, on the same server processes: no connection opened again.
    assert lanes[1] <= lanes[0]
    kept = {pid for _, pid in lanes[0]}
    assert kept <= _backends()

    # A connection lost between batches (a server restart, an idle timeout) is replaced.
    victim = min(kept)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [victim])
    batch[0] = 2
    outcomes = sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=third)
    assert {o.kind for o in outcomes.values()} == {"sent"} and len(outcomes) == 8
    assert victim not in {pid for _, pid in lanes[2]}

    sending.lanes_stop()
    # A server process ends a moment after its client closes the connection.
    deadline = time.monotonic() + 10
    while {pid for _, pid in lanes[2]} & _backends() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not ({pid for _, pid in lanes[2]} & _backends())
    assert len(sandbox.creates()) == 24


@in_lanes
def test_an_error_in_one_lane_stops_the_batch_and_leaves_the_rest_queued(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_numbers(1)
    [ids] = queue_cohort(advisor, cohort(12), monkeypatch)
    calls: list[str] = []
    real_create = gateway.message_create

    def create(**kwargs: Any) -> Any:
        calls.append(kwargs["to"])
        if len(calls) == 2:
            raise RuntimeError("a bug in one lane")
        return real_create(**kwargs)

    monkeypatch.setattr(gateway, "message_create", create)

    with pytest.raises(RuntimeError, match="a bug in one lane"):
        sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)

    statuses = list(Message.objects.filter(pk__in=ids).values_list("status", flat=True))
    # Each lane finished the text it held; none took another.
    assert statuses.count(Status.SENDING) == 1  # the text whose request raised
    assert statuses.count(Status.SENT) <= sending.IN_FLIGHT - 1 + sending.IN_FLIGHT
    assert statuses.count(Status.QUEUED) >= 12 - 2 * sending.IN_FLIGHT
    assert len(calls) == len(sandbox.creates()) + 1


def test_a_status_callback_that_overtook_the_answer_keeps_its_status_and_gets_the_sid(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_numbers(1)
    [ids] = queue_cohort(advisor, cohort(2), monkeypatch)
    real_create = gateway.message_create

    def create(**kwargs: Any) -> Any:
        result = real_create(**kwargs)
        if len(sandbox.creates()) == 1:
            # Twilio's "delivered" for the first text arrives before its answer is written.
            Message.objects.filter(pk=ids[0]).update(status=Status.DELIVERED)
        return result

    monkeypatch.setattr(gateway, "message_create", create)

    sending.sms_send_batch(gateway=gateway.from_settings(), message_ids=ids)

    first, second = (Message.objects.get(pk=pk) for pk in ids)
    # The first text's acceptance rode on the second's claim: it never goes backwards.
    assert first.status == Status.DELIVERED
    assert first.twilio_sid in sandbox.messages
    assert sandbox.messages[first.twilio_sid]["to"] == first.destination
    assert second.status == Status.SENT and second.twilio_sid != first.twilio_sid
