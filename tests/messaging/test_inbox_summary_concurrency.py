"""The inbox's summary rows under concurrent writes on PostgreSQL: replies recorded at once, and a
reply recorded while its conversation is being opened, leave the unread count what the messages
say."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, connections, transaction

from messaging import inbound, inbox, inbox_services
from messaging.conversation import Owner
from messaging.models import ConversationSummary, Message
from tests.parallel import postgres_only, run_at_once
from tests.twilio_bridge.webhook_client import World, new_sid

pytestmark = postgres_only


@pytest.fixture
def world(transactional_db: Any) -> World:
    return World()


def reply(world: World, body: str = "Tuesday works") -> Message:
    return inbound.message_inbound_receive(
        message_sid=new_sid(),
        from_number=world.cell.number,
        to_number=world.sender_number.number,
        body=body,
    ).message


def unread_texts(world: World) -> int:
    return Message.objects.filter(attributed_to=world.advisor, read_at__isnull=True).count()


def summary_unread(world: World) -> int:
    return ConversationSummary.objects.get(staff=world.advisor, person=world.student).unread


def wait_until_a_transaction_waits_for_a_lock() -> None:
    """Poll the server until another connection of this database waits for a row lock."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            row = cursor.fetchone()
        if row is not None and row[0]:
            return
        time.sleep(0.01)
    raise AssertionError("no transaction waited for the summary row")


@pytest.mark.parametrize("copies", [2, 8])
def test_replies_starting_a_conversation_at_once_are_all_counted(world: World, copies: int) -> None:
    run_at_once(lambda i: reply(world, f"question {i}").pk, copies)

    assert unread_texts(world) == copies
    assert summary_unread(world) == copies
    assert ConversationSummary.objects.count() == 1


def test_a_reply_recorded_while_its_conversation_is_opened_stays_unread_and_counted(
    world: World,
) -> None:
    reply(world, "first question")
    recorded, commit = threading.Event(), threading.Event()
    marked: list[int] = []
    errors: list[BaseException] = []

    def reply_held_open() -> None:
        try:
            with transaction.atomic():
                reply(world, "second question")
                recorded.set()
                commit.wait(timeout=20)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def open_conversation() -> None:
        try:
            marked.append(
                inbox_services.conversation_mark_read(
                    owner=Owner(world.advisor.pk), person_id=world.student.pk
                )
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    writer = threading.Thread(target=reply_held_open)
    writer.start()
    assert recorded.wait(timeout=20)
    # The opening marks the first text (the second is not committed yet), then waits for the
    # summary row the reply holds.
    reader = threading.Thread(target=open_conversation)
    reader.start()
    wait_until_a_transaction_waits_for_a_lock()
    commit.set()
    writer.join(timeout=30)
    reader.join(timeout=30)

    assert not errors
    assert marked == [1]
    assert unread_texts(world) == 1
    assert summary_unread(world) == 1
    (row,) = inbox.all_conversations(Owner(world.advisor.pk))
    assert row.unread == 1 and row.last_message_excerpt == "second question"
