"""Pacers running at once on PostgreSQL (the chained task, the beat job's safety net and a
second worker all at the same second): each waiting text is admitted once, and no number is
given more than its rate in any second."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from messaging import enqueue, pacing, services
from messaging.models import Message, Status
from sms_admin import services as sms_admin_services
from tests import factories
from tests.parallel import postgres_only, run_at_once
from tests.sending_support import policy_defaults_ensure, pool_numbers, student_with_phone

pytestmark = postgres_only

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
NUMBERS = 3
PER_NUMBER = 12
RATE = 2
PACERS = 4


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(second of the clock, text id) of every text handed to the worker."""
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def texts(ids: Any, *, after_commit: bool = True) -> None:
        second = pacing.second_of(datetime.now(UTC))
        with lock:
            seen.extend((second, pk) for pk in ids)

    monkeypatch.setattr(enqueue, "sms_batches", texts)
    return seen


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_pacers_at_once_admit_each_text_once_within_each_numbers_rate(
    transactional_db: Any, config: Any, clock: Any, published: list[tuple[int, int]]
) -> None:
    policy_defaults_ensure()
    sms_admin_services.configuration_update(actor=None, sender_segments_per_second=RATE)
    pool_numbers(NUMBERS)
    for n in range(NUMBERS):
        advisor = factories.staff(user=factories.UserFactory(username=f"advisor{n}"))
        people = [student_with_phone(f"+1202555{n * 100 + i:04d}")[0] for i in range(PER_NUMBER)]
        services.message_send_bulk(sender=advisor, recipient_ids=[p.pk for p in people], body="Hi")
    texts = dict(Message.objects.values_list("pk", "from_number"))
    assert len(texts) == NUMBERS * PER_NUMBER
    assert len(published) == NUMBERS * RATE

    for _ in range(PER_NUMBER):
        clock.shift(timedelta(seconds=1))
        run_at_once(lambda _: pacing.messages_pace().admitted, PACERS)

    ids = [pk for _, pk in published]
    assert sorted(ids) == sorted(texts)
    per_second: dict[tuple[str, int], int] = {}
    for second, pk in published:
        key = (texts[pk], second)
        per_second[key] = per_second.get(key, 0) + 1
    assert max(per_second.values()) == RATE
    assert not Message.objects.filter(status=Status.QUEUED, leaves_at__isnull=False).exists()
