"""Bridge guarantees no other test pinned down: reconciling an ambiguous send attaches only the
SID of a message Twilio created for this text, and a signature must match to its last
character on both webhooks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from messaging import sending
from messaging.models import FailureReason, Message, Status
from people.models import PhoneStatusChange, SmsStatus
from tests.twilio_bridge.webhook_client import (
    INBOUND_PATH,
    STATUS_PATH,
    World,
    inbound_params,
    new_sid,
    sign,
    signed_post,
    status_params,
)
from twilio_bridge import gateway
from twilio_bridge.sandbox import Sandbox

TWILIO = gateway.from_settings()

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: Any) -> World:
    return World()


# --- reconciling an ambiguous send ----------------------------------------------------------


def text_in_review(world: World) -> Message:
    """A text whose send timed out after the request left: in `sending`, flagged for review."""
    return world.outbound_text(
        sid=None, status=Status.SENDING, failure_reason=FailureReason.NEEDS_REVIEW
    )


def twilio_holds(sandbox: Sandbox, text: Message, *, created: datetime) -> str:
    """Twilio has a message with the text's number, sender and body, created at `created`;
    returns its SID. Twilio lists the latest created first."""
    status, resource = sandbox.create(
        {"To": text.destination, "From": text.from_number, "Body": text.body}
    )
    assert status == 201
    sandbox.messages[resource["sid"]]["date_created"] = created
    return str(resource["sid"])


def test_reconciling_ignores_a_same_body_message_twilio_created_before_the_text(
    world: World, sandbox: Sandbox
) -> None:
    text = text_in_review(world)
    # The same words to the same person last week; Twilio's SID for it is not one we know.
    twilio_holds(sandbox, text, created=text.created_at - timedelta(days=7))

    outcome = sending.sms_reconcile(
        gateway=gateway.from_settings(), message_id=text.pk, final=False
    )

    text.refresh_from_db()
    assert outcome == "review"
    assert (text.status, text.twilio_sid) == (Status.SENDING, None)


def test_reconciling_attaches_the_fresh_match_not_an_older_same_body_message(
    world: World, sandbox: Sandbox
) -> None:
    text = text_in_review(world)
    twilio_holds(sandbox, text, created=text.created_at - timedelta(days=7))
    ours = twilio_holds(sandbox, text, created=text.created_at + timedelta(seconds=1))

    outcome = sending.sms_reconcile(gateway=TWILIO, message_id=text.pk, final=True)

    text.refresh_from_db()
    assert outcome == "sent"
    assert (text.status, text.twilio_sid) == (Status.SENT, ours)


def test_reconciling_with_two_fresh_matches_attaches_the_oldest(
    world: World, sandbox: Sandbox
) -> None:
    text = text_in_review(world)
    # Two unclaimed matches since the text was recorded: ours is the first Twilio created; the
    # second belongs to a later text still on its way (it claims the next one).
    ours = twilio_holds(sandbox, text, created=text.created_at + timedelta(seconds=1))
    twilio_holds(sandbox, text, created=text.created_at + timedelta(seconds=5))

    outcome = sending.sms_reconcile(
        gateway=gateway.from_settings(), message_id=text.pk, final=False
    )

    text.refresh_from_db()
    assert outcome == "sent"
    assert (text.status, text.twilio_sid) == (Status.SENT, ours)


# --- the signature is compared in full ----------------------------------------------------------


def last_characters_changed(signature: str, count: int) -> str:
    """`signature` with its last `count` characters replaced by different ones."""
    head, tail = signature[:-count], signature[-count:]
    return head + "".join("B" if c == "A" else "A" for c in tail)


def nothing_changed(world: World, text: Message) -> bool:
    world.cell.refresh_from_db()
    text.refresh_from_db()
    return (
        text.status == Status.SENT
        and world.cell.sms_status == SmsStatus.ENABLED
        and not PhoneStatusChange.objects.exists()
        and not Message.objects.filter(direction="inbound").exists()
        and mail.outbox == []
    )


def refusable_request(world: World, path: str, text: Message) -> dict[str, str]:
    """A request that would change something if accepted: a failed text, or a STOP."""
    if path == STATUS_PATH:
        return status_params(str(text.twilio_sid), "failed", 30005)
    return inbound_params(
        sid=new_sid(),
        from_number=world.cell.number,
        to_number=world.sender_number.number,
        body="STOP",
    )


@pytest.mark.parametrize("path", [STATUS_PATH, INBOUND_PATH])
@pytest.mark.parametrize("count", [1, 2, 24])
def test_a_signature_differing_only_in_its_last_characters_is_refused_and_changes_nothing(
    world: World, path: str, count: int
) -> None:
    text = world.outbound_text()
    params = refusable_request(world, path, text)
    genuine = sign(settings.PUBLIC_BASE_URL + path, params)

    response = signed_post(
        Client(), path, params, signature=last_characters_changed(genuine, count)
    )

    assert response.status_code == 403
    assert nothing_changed(world, text)


@pytest.mark.parametrize("path", [STATUS_PATH, INBOUND_PATH])
def test_the_genuine_signature_of_the_same_request_is_accepted(world: World, path: str) -> None:
    text = world.outbound_text()
    params = refusable_request(world, path, text)

    response = signed_post(Client(), path, params)

    assert response.status_code in (200, 204)
    assert not nothing_changed(world, text)
