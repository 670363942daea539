"""Replies arriving while their number is being released and given to someone else, on
PostgreSQL with real threads (V2, Q1): each is attributed by the rule, never to a staff member
who did not text that person from that number and did not hold the number."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from messaging.models import Attribution, Direction, Message
from sms_admin import pool
from sms_admin.models import SenderAssignment, SmsConfiguration
from tests import factories
from tests.parallel import postgres_only, run_at_once
from tests.twilio_bridge.webhook_client import (
    INBOUND_PATH,
    World,
    inbound_params,
    new_sid,
    signed_post,
)

pytestmark = postgres_only

REPLIES = 7


@pytest.fixture
def world(transactional_db: Any) -> World:
    SmsConfiguration.objects.update_or_create(pk=1, defaults={"number_quarantine_days": 0})
    return World()


def race(world: World, newcomer: Any) -> list[str]:
    """Thread 0 releases the advisor's number and gives it to `newcomer` (their first send);
    the others post the student's texts to that number through the signed webhook."""
    held = SenderAssignment.objects.get(person=world.advisor, released_at__isnull=True)

    def act(i: int) -> str:
        if i == 0:
            pool.sender_assignment_release(assignment_id=held.pk)
            taken = pool.sender_number_ensure(person=newcomer)
            assert taken is not None and taken.sender_number_id == world.sender_number.pk
            return "moved"
        params = inbound_params(
            sid=new_sid(),
            from_number=world.cell.number,
            to_number=world.sender_number.number,
            body=f"Answer {i}",
        )
        return str(signed_post(Client(), INBOUND_PATH, params).status_code)

    return run_at_once(act, REPLIES + 1)


def test_replies_racing_the_numbers_release_and_reassignment_stay_with_who_texted(
    world: World,
) -> None:
    world.outbound_text()
    newcomer = factories.staff(first_name="Cy", last_name="Three", email="cy@example.edu")

    outcomes = race(world, newcomer)

    assert sorted(outcomes) == ["200"] * REPLIES + ["moved"]
    replies = Message.objects.filter(direction=Direction.INBOUND)
    assert replies.count() == REPLIES
    assert set(replies.values_list("attributed_to", "recipient", "attribution", "is_reply")) == {
        (world.advisor.pk, world.advisor.pk, Attribution.REPLY, True)
    }
    assert {email.to[0] for email in mail.outbox} == {"alex.advisor@example.edu"}
    assert SenderAssignment.objects.get(released_at__isnull=True).person == newcomer


def test_first_texts_racing_the_move_go_to_whoever_holds_the_number_or_the_shared_inbox(
    world: World,
) -> None:
    # Nobody texted the student from the number: each text is the holder's when it arrives,
    # the shared inbox's in the instant nobody holds it, and never anybody else's.
    newcomer = factories.staff(first_name="Cy", last_name="Three")

    race(world, newcomer)

    decided = set(
        Message.objects.filter(direction=Direction.INBOUND).values_list(
            "attributed_to", "attribution", "is_reply"
        )
    )
    assert decided <= {
        (world.advisor.pk, Attribution.HOLDER, False),
        (newcomer.pk, Attribution.HOLDER, False),
        (None, Attribution.SHARED, False),
    }
    assert Message.objects.filter(direction=Direction.INBOUND).count() == REPLIES
