"""Due scheduled texts released on PostgreSQL by beat processes racing each other, and by one
killed mid-release: each text is released (decided, counted, handed to the worker) once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from messaging import enqueue, services
from messaging.models import Message, Status
from people.models import Person
from sms_admin.models import MonthlyUsage
from tests import factories
from tests.parallel import postgres_only, run_at_once
from tests.sending_support import policy_defaults_ensure, pool_numbers, student_with_phone

pytestmark = postgres_only

TEXTS = 60


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    lock = threading.Lock()

    def texts(ids: Any, *, after_commit: bool = True) -> None:
        with lock:
            seen.extend(ids)

    monkeypatch.setattr(enqueue, "sms_batches", texts)
    monkeypatch.setattr(enqueue, "email_batches", texts)
    return seen


@pytest.fixture
def due(transactional_db: Any, config: Any) -> list[int]:
    """TEXTS scheduled texts from one advisor, due one minute ago."""
    policy_defaults_ensure()
    pool_numbers(1)
    advisor: Person = factories.staff(user=factories.UserFactory(username="advisor"))
    people = [student_with_phone(f"+1202555{i:04d}")[0] for i in range(TEXTS)]
    services.message_send_bulk(
        sender=advisor,
        recipient_ids=[p.pk for p in people],
        body="Hi",
        send_at=timezone.now() + timedelta(minutes=5),
    )
    Message.objects.update(send_at=timezone.now() - timedelta(minutes=1))
    return list(Message.objects.values_list("pk", flat=True))


def _sent_this_month() -> int:
    return sum(MonthlyUsage.objects.values_list("sent", flat=True))


def test_eight_beat_processes_release_each_due_text_once(
    due: list[int], published: list[int]
) -> None:
    released = run_at_once(lambda _: services.messages_release_all_due(batch_size=7), 8)

    assert sum(released) == TEXTS
    assert sorted(published) == sorted(due)
    assert Message.objects.filter(status=Status.QUEUED).count() == TEXTS
    assert _sent_this_month() == TEXTS


def test_a_release_killed_half_way_leaves_its_texts_scheduled_for_the_next_beat(
    due: list[int], published: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = services._enqueue

    def killed(messages: Any, *, single: bool = False) -> None:
        # The process dies after deciding and writing, before its transaction commits.
        raise SystemExit("worker killed")

    monkeypatch.setattr(services, "_enqueue", killed)
    with pytest.raises(SystemExit):
        services.messages_release_due(batch_size=25)
    assert Message.objects.filter(status=Status.SCHEDULED).count() == TEXTS
    assert _sent_this_month() == 0
    assert published == []

    monkeypatch.setattr(services, "_enqueue", real)
    released = run_at_once(lambda _: services.messages_release_all_due(batch_size=25), 2)

    assert sum(released) == TEXTS
    assert sorted(published) == sorted(due)
    assert _sent_this_month() == TEXTS


def test_a_cancel_racing_the_release_either_cancels_or_finds_it_released(
    due: list[int], published: list[int]
) -> None:
    admin = factories.UserFactory(username="admin", is_staff=True)
    assert admin

    def act(i: int) -> str:
        if i == 0:
            services.messages_release_all_due(batch_size=TEXTS)
            return "released"
        outcomes = []
        for pk in due[i - 1 :: 3]:
            try:
                services.message_cancel(message_id=pk, actor=None, is_administrator=True)
                outcomes.append("c")
            except services.NotCancelable:
                outcomes.append("n")
        return "".join(outcomes)

    run_at_once(act, 4)

    canceled = set(Message.objects.filter(status=Status.CANCELED).values_list("pk", flat=True))
    queued = set(Message.objects.filter(status=Status.QUEUED).values_list("pk", flat=True))
    assert canceled | queued == set(due)
    assert canceled.isdisjoint(published)
    assert set(published) == queued
    assert _sent_this_month() == len(queued)
