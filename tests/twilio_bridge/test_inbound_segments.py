"""An inbound text records the segments Twilio reports (NumSegments); without a usable value it
counts them from the body, so the Message Report never shows 0 for a text that arrived."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from messaging.models import Message
from tests.twilio_bridge.webhook_client import (
    INBOUND_PATH,
    World,
    inbound_params,
    new_sid,
    signed_post,
)

pytestmark = pytest.mark.django_db

LONG_REPLY = "Yes I can come on Tuesday at ten, and I will bring the form. " * 3  # 186 GSM-7


@pytest.fixture
def world(db: Any) -> World:
    return World()


def _receive(world: World, body: str, **overrides: str) -> Message:
    sid = new_sid()
    params = inbound_params(
        sid=sid, from_number=world.cell.number, to_number=world.sender_number.number, body=body
    )
    params.update(overrides)
    response = signed_post(Client(), INBOUND_PATH, params)
    assert response.status_code == 200
    return Message.objects.get(twilio_sid=sid)


def test_twilios_num_segments_is_recorded(world: World) -> None:
    message = _receive(world, LONG_REPLY, NumSegments="2")
    assert (message.segments, message.encoding) == (2, "GSM-7")


def test_twilios_count_wins_over_ours(world: World) -> None:
    assert _receive(world, "Yes", NumSegments="3").segments == 3


@pytest.mark.parametrize("value", ["", "0", "-1", "two", "1.5", "²", "99999999"])
def test_a_missing_or_unusable_num_segments_is_counted_from_the_body(
    world: World, value: str
) -> None:
    message = _receive(world, LONG_REPLY, NumSegments=value)
    assert (message.segments, message.encoding) == (2, "GSM-7")


def test_a_text_in_ucs2_without_num_segments_is_counted_as_ucs2(world: World) -> None:
    message = _receive(world, "Merci, à mardi 🙂", NumSegments="")
    assert (message.segments, message.encoding) == (1, "UCS-2")
