"""The send task's retry policy: exponential backoff through the broker, capped attempts."""

from __future__ import annotations

from typing import Any

import pytest
from celery.exceptions import Retry

from messaging import enqueue, sending, services
from messaging.models import Status
from tests.sending_support import pool_numbers, student_with_phone
from twilio_bridge import tasks
from twilio_bridge.sandbox import Sandbox


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    for attempt in range(1, 6):
        assert 2**attempt / 2 <= sending.backoff_seconds(attempt) <= 2**attempt
    assert sending.backoff_seconds(30) <= 300


@pytest.mark.usefixtures("config", "policy")
def test_a_throttled_send_goes_back_to_the_broker_with_a_countdown_and_waits_queued(
    advisor: Any,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queued: list[int] = []
    monkeypatch.setattr(enqueue, "sms", queued.append)
    pool_numbers(1)
    student, _ = student_with_phone()
    text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
    sandbox.fail_next(status=429, code=20429)
    retries: list[dict[str, Any]] = []

    def fake_retry(**kwargs: Any) -> Retry:
        retries.append(kwargs)
        return Retry("retry", when=kwargs["countdown"])

    monkeypatch.setattr(tasks.send_sms, "retry", fake_retry)
    tasks.send_sms.push_request(is_eager=False, id="t-1", retries=0)
    try:
        with pytest.raises(Retry):
            tasks.send_sms.run(message_id=text.pk)
    finally:
        tasks.send_sms.pop_request()

    [retry] = retries
    assert 1.0 <= retry["countdown"] <= 2.0
    assert retry["kwargs"] == {"message_id": text.pk}
    text.refresh_from_db()
    assert (text.status, text.attempts) == (Status.QUEUED, 1)
    assert len(sandbox.creates()) == 1
