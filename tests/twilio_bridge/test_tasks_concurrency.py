"""Concurrency proofs on PostgreSQL with real threads, each with its own connection (S3, S6).

SQLite serialises every writer, so it can prove none of this: these tests are skipped there,
and CI runs them on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from django.db import connection

from messaging import enqueue, services
from messaging.models import Channel, FailureReason, Message
from people.models import Person
from sms_admin import pool
from sms_admin import services as sms_admin_services
from sms_admin.models import MonthlyUsage, SenderAssignment
from tests import factories
from tests.sending_support import policy_defaults_ensure, pool_numbers, student_with_phone
from twilio_bridge.sandbox import Sandbox

T = TypeVar("T")

pytestmark = [
    pytest.mark.postgres,
    # The rows data migrations create (T3 policy, System type) are put back before each
    # transactional test by tests/conftest.py.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency is proven on PostgreSQL only (set DATABASE_URL); SQLite serialises "
        "all writers",
    ),
]


def run_at_once(jobs: list[Callable[[], T]], workers: int) -> list[T]:
    """Run `jobs` on `workers` threads released together; each thread has its own connection."""
    barrier = threading.Barrier(min(workers, len(jobs)))
    started = threading.local()

    def wrap(job: Callable[[], T]) -> T:
        if not getattr(started, "done", False):
            started.done = True
            barrier.wait(timeout=30)
        try:
            return job()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as executor:
        return list(executor.map(wrap, jobs))


@pytest.fixture
def setup(config: Any) -> None:
    policy_defaults_ensure()


@pytest.mark.usefixtures("setup")
def test_forty_staff_racing_for_ten_free_numbers_get_exactly_ten_and_thirty_emails(
    sandbox: Sandbox,
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_phone_number_limit=100)
    pool_numbers(10)
    staff = [factories.staff() for _ in range(40)]
    student, _ = student_with_phone()

    messages = run_at_once(
        [
            lambda s=s: services.message_send(sender=s, recipient_id=student.pk, body="Hi")
            for s in staff
        ],
        workers=40,
    )

    active = SenderAssignment.objects.filter(released_at__isnull=True)
    assert active.count() == 10
    assert active.values("sender_number").distinct().count() == 10
    assert active.values("person").distinct().count() == 10
    assert sum(m.channel == Channel.SMS for m in messages) == 10
    emails = Message.objects.filter(
        channel=Channel.EMAIL, failure_reason=FailureReason.NO_SENDER_NUMBER
    )
    assert emails.count() == 30
    assert len(sandbox.creates()) == 10
    assert len({c["form"]["From"] for c in sandbox.creates()}) == 10


@pytest.mark.usefixtures("setup")
def test_the_phone_number_limit_holds_when_the_pool_has_more_numbers_than_the_limit() -> None:
    sms_admin_services.configuration_update(actor=None, sms_phone_number_limit=7)
    pool_numbers(20)
    staff = [factories.staff() for _ in range(30)]

    results = run_at_once(
        [lambda s=s: pool.sender_number_ensure(person=s) for s in staff], workers=30
    )

    assert sum(r is not None for r in results) == 7
    assert SenderAssignment.objects.filter(released_at__isnull=True).count() == 7


@pytest.mark.usefixtures("setup")
def test_a_hundred_sends_with_five_left_this_month_give_five_texts_and_ninety_five_emails(
    advisor: Any, sandbox: Sandbox
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=1000)
    year, month = pool.month_key()
    MonthlyUsage.objects.create(year=year, month=month, sent=995)
    pool_numbers(1)
    assert pool.sender_number_ensure(person=advisor) is not None
    student, _ = student_with_phone()

    messages = run_at_once(
        [
            lambda: services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
            for _ in range(100)
        ],
        workers=25,
    )

    assert sum(m.channel == Channel.SMS for m in messages) == 5
    assert (
        Message.objects.filter(
            channel=Channel.EMAIL, failure_reason=FailureReason.SMS_LIMIT_REACHED
        ).count()
        == 95
    )
    assert MonthlyUsage.objects.get(year=year, month=month).sent == 1000
    assert len(sandbox.creates()) == 5


@pytest.mark.usefixtures("setup")
def test_the_first_sends_of_a_month_create_one_counter_row_and_never_overshoot() -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=50)

    granted = run_at_once([pool.monthly_usage_reserve for _ in range(120)], workers=30)

    assert sum(granted) == 50
    assert list(MonthlyUsage.objects.values_list("sent", flat=True)) == [50]


@pytest.mark.usefixtures("setup")
def test_one_send_task_delivered_three_times_at_once_reaches_twilio_once(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twilio_bridge import tasks

    queued: list[int] = []
    monkeypatch.setattr(enqueue, "sms", queued.append)
    pool_numbers(1)
    student, _ = student_with_phone()
    text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
    assert queued == [text.pk]

    outcomes = run_at_once(
        [lambda: tasks.send_sms.apply(kwargs={"message_id": text.pk}).result for _ in range(3)],
        workers=3,
    )

    assert sorted(outcomes) == ["sent", "skipped", "skipped"]
    assert len(sandbox.creates()) == 1
    text.refresh_from_db()
    assert text.twilio_sid in sandbox.messages
    assert text.attempts == 1


@pytest.mark.usefixtures("setup")
def test_bulk_sends_racing_single_sends_never_overshoot_the_month(
    advisor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(enqueue, "sms", lambda pk: None)
    monkeypatch.setattr(enqueue, "sms_batches", lambda pks: None)
    monkeypatch.setattr(enqueue, "email", lambda pk: None)
    sms_admin_services.configuration_update(actor=None, sms_message_limit=30)
    pool_numbers(1)
    assert pool.sender_number_ensure(person=advisor) is not None
    people = [student_with_phone(f"+12025554{i:03d}")[0] for i in range(20)]
    ids = [p.pk for p in people]

    def bulk() -> int:
        result = services.message_send_bulk(sender=advisor, recipient_ids=ids, body="Hi")
        return result.counts[("sms", "")]

    def single() -> int:
        message = services.message_send(sender=advisor, recipient_id=ids[0], body="Hi")
        return int(message.channel == Channel.SMS)

    texts = run_at_once([bulk, bulk, *[single for _ in range(10)]], workers=12)

    assert sum(texts) == 30
    assert Message.objects.filter(channel=Channel.SMS).count() == 30
    assert MonthlyUsage.objects.get().sent == 30


@pytest.mark.usefixtures("setup")
def test_one_batch_task_delivered_three_times_at_once_sends_each_text_once(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twilio_bridge import tasks

    batches: list[list[int]] = []
    monkeypatch.setattr(enqueue, "sms_batches", lambda ids: batches.append(list(ids)))
    pool_numbers(1)
    people = [student_with_phone(f"+12025558{i:03d}")[0] for i in range(12)]
    services.message_send_bulk(sender=advisor, recipient_ids=[p.pk for p in people], body="Hi")
    [ids] = batches

    counts = run_at_once(
        [lambda: tasks.send_sms_batch.apply(kwargs={"message_ids": ids}).result for _ in range(3)],
        workers=3,
    )

    assert sum(c.get("sent", 0) for c in counts) == 12
    assert len(sandbox.creates()) == 12
    assert len({c["form"]["To"] for c in sandbox.creates()}) == 12
    assert set(Message.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}
    assert MonthlyUsage.objects.get().sent == 12


@pytest.mark.usefixtures("setup")
def test_a_recipient_deleted_before_the_cohort_commits_refuses_it_naming_them(
    advisor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.exceptions import ValidationError

    pool_numbers(1)
    people = [student_with_phone(f"+12025559{i:03d}")[0] for i in range(3)]
    gone_id = people[1].pk
    recorded = enqueue.sms_batches

    def delete_elsewhere(ids: Any) -> None:
        # An administrator deletes a recipient on another connection after the cohort's rows
        # are inserted and before they commit (PostgreSQL checks foreign keys at commit).
        if Message.objects.filter(recipient_id=gone_id).exists():
            run_at_once([lambda: Person.objects.filter(pk=gone_id).delete()], workers=1)
        recorded(ids)

    monkeypatch.setattr(enqueue, "sms_batches", delete_elsewhere)

    with pytest.raises(ValidationError) as refused:
        services.message_send_bulk(sender=advisor, recipient_ids=[p.pk for p in people], body="Hi")

    assert f"There is no person with id {gone_id}." in str(refused.value)
    assert Message.objects.count() == 0
    assert MonthlyUsage.objects.filter(sent__gt=0).count() == 0
