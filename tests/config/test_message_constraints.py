"""The database refuses an unknown message status and a second email fallback for one text.

(These live with the foundation's tests; messaging's behaviour is tested in tests/messaging/.)
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from messaging.models import Channel, Direction, Message, Status

pytestmark = pytest.mark.django_db


def _text(**fields: object) -> Message:
    return Message.objects.create(
        direction=Direction.OUTBOUND, channel=Channel.SMS, body="Hello", **fields
    )


def test_a_new_message_is_queued() -> None:
    message = _text()
    message.refresh_from_db()
    assert message.status == Status.QUEUED


@pytest.mark.parametrize(
    "status", ["queued", "sending", "sent", "delivered", "undelivered", "failed", "received"]
)
def test_every_twilio_status_word_is_accepted(status: str) -> None:
    assert _text(status=status).status == status


def test_a_status_outside_twilio_words_is_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _text(status="accepted")
    assert not Message.objects.exists()


def test_a_text_is_stood_in_for_by_at_most_one_email() -> None:
    text = _text(status=Status.FAILED)
    Message.objects.create(
        direction=Direction.OUTBOUND, channel=Channel.EMAIL, body="Hi", replaces=text
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(
            direction=Direction.OUTBOUND, channel=Channel.EMAIL, body="Hi", replaces=text
        )
    assert text.fallbacks.count() == 1


def test_messages_that_replace_nothing_are_not_limited() -> None:
    _text()
    _text()
    assert Message.objects.filter(replaces__isnull=True).count() == 2


def test_a_twilio_sid_is_stored_once() -> None:
    _text(twilio_sid="SM" + "a" * 32)
    with pytest.raises(IntegrityError), transaction.atomic():
        _text(twilio_sid="SM" + "a" * 32)
