"""The broker (Redis) unreachable while sends are recorded: the request still answers 201, the
text waits in `queued`, and the sweep publishes it once the broker is back; nothing twice."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from messaging import enqueue, sending
from messaging.models import Message, Status
from tests.conftest import client_for
from tests.sending_support import broker_down, pool_numbers, student_with_phone
from twilio_bridge import gateway
from twilio_bridge.sandbox import Sandbox

# Real commits: the on-commit publish runs inside the request, as in production.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("config", "policy")]


def api(advisor: Any) -> APIClient:
    client = client_for(advisor.user)
    client.raise_request_exception = False  # a server error must show as the 500 it would be
    return client


def age_all(seconds: int = 3600) -> None:
    Message.objects.update(updated_at=timezone.now() - timedelta(seconds=seconds))


def sweep() -> dict[str, int]:
    return sending.messages_sweep(gateway=gateway.from_settings())


def test_a_send_recorded_while_the_broker_is_down_answers_201_and_the_sweep_sends_it_once(
    advisor: Any, sandbox: Sandbox
) -> None:
    pool_numbers(1)
    student, phone = student_with_phone()

    with broker_down():
        response = api(advisor).post(
            "/api/v1/messages/", {"recipient": student.pk, "body": "Hi"}, format="json"
        )

    assert response.status_code == 201, response.content
    text = Message.objects.get(pk=response.json()["id"])
    assert text.status == Status.QUEUED
    assert sandbox.creates() == []
    # The broker is back; the sweep finds the text nobody published.
    age_all()
    sweep()
    sweep()
    text.refresh_from_db()
    assert text.status == Status.SENT
    assert [c["form"]["To"] for c in sandbox.creates()] == [phone.number]


def test_a_cohort_recorded_while_the_broker_is_down_answers_201_and_tries_the_broker_once(
    advisor: Any,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(enqueue, "TASK_BATCH_SIZE", 2)
    pool_numbers(1)
    people = [student_with_phone(f"+120255580{i:02d}")[0] for i in range(5)]

    with broker_down(), caplog.at_level(logging.WARNING, logger="messaging.enqueue"):
        response = api(advisor).post(
            "/api/v1/messages/bulk/",
            {"recipients": [p.pk for p in people], "body": "Registration opens Monday"},
            format="json",
        )

    assert response.status_code == 201, response.content
    ids = response.json()["message_ids"]
    assert set(Message.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        Status.QUEUED
    }
    # Three batches: the first publish fails, the other two wait for the sweep without trying.
    failed = [r for r in caplog.records if "not published" in r.getMessage()]
    skipped = [r for r in caplog.records if "left for the sweep" in r.getMessage()]
    assert (len(failed), len(skipped)) == (1, 2)
    age_all()
    sweep()
    sweep()
    assert set(Message.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Status.SENT}
    assert len(sandbox.creates()) == 5
