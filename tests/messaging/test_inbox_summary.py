"""The inbox's summary rows always say what the messages say: after any sequence of sends,
cohort sends, failures (retries and email fallbacks), replies (to a staff member's number or
to nobody's, keywords too) and conversations opened, at clock times out of order, every inbox
lists what the definitions computed from the messages give, and the rows equal a rebuild from
the messages (hypothesis, through the product's own services)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging import inbound, inbox, inbox_services, services, status
from messaging.conversation import SHARED, Owner, written_between
from messaging.inbox import Conversation, Filter
from messaging.models import Channel, ConversationSummary, Direction, Message
from people.models import Person, PersonPhone
from sms_admin import services as sms_admin_services
from sms_admin.models import SenderAssignment
from tests import factories
from tests.messaging.inbox_support import received, sent
from tests.sending_support import pool_numbers, student_with_phone

pytestmark = pytest.mark.usefixtures("config", "policy")

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
# Few distinct minutes, so messages are often recorded out of order and sometimes at once.
minutes = st.integers(min_value=0, max_value=40)
STAFF = 2
STUDENTS = 3
# A number nobody holds and nobody texted from: a text to it lands in the shared inbox.
NOBODYS_NUMBER = "+12015559999"


@dataclass(frozen=True)
class World:
    staff: list[Person]
    students: list[Person]
    phones: list[PersonPhone]


@pytest.fixture
def world(db: Any) -> World:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=100_000)
    pool_numbers(STAFF)
    staff = [factories.staff(first_name=f"Staff{i}") for i in range(STAFF)]
    students, phones = [], []
    for i in range(STUDENTS):
        # The last student has no email: a failed text is recorded as undeliverable.
        person, phone = student_with_phone(
            f"+1202555{100 + i:04d}",
            first_name=f"Student{i}",
            email=f"student{i}@example.edu" if i < STUDENTS - 1 else "",
        )
        students.append(person)
        phones.append(phone)
    return World(staff, students, phones)


# --- what the messages say ----------------------------------------------------------------


def expected_inbox(owner: Owner, people: list[Person], show: Filter) -> list[tuple[Any, ...]]:
    """The inbox of `owner` computed from its messages by the definitions (messaging.inbox's
    docstring), in Python: what a page must show, but the opted-out flag."""
    rows = []
    for person in people:
        messages = sorted(
            Message.objects.filter(written_between(owner, person.pk)),
            key=lambda m: (m.created_at, m.pk),
        )
        if not messages:
            continue
        last = messages[-1]
        unread = sum(1 for m in messages if m.direction == Direction.INBOUND and not m.read_at)
        replies = [m for m in messages if m.direction == Direction.INBOUND and not m.keyword]
        answers = [m.created_at for m in messages if m.direction == Direction.OUTBOUND]
        needs_reply = bool(replies) and replies[-1].created_at == last.created_at
        after = max(answers) if answers else None
        waiting = [m.created_at for m in replies if after is None or m.created_at > after]
        if show == Filter.UNREAD and not unread:
            continue
        if show == Filter.NEEDS_REPLY and not needs_reply:
            continue
        rows.append(
            (
                person.pk,
                person.full_name,
                last.created_at,
                inbox.excerpt(last.body),
                last.direction,
                last.status,
                unread,
                needs_reply,
                # An answer and a reply written at the same instant: nothing after the answer.
                min(waiting) if needs_reply and waiting else None,
            )
        )
    return sorted(rows, key=lambda r: (r[2], r[0]), reverse=True)


def shown(row: Conversation) -> tuple[Any, ...]:
    return (
        row.person_id,
        row.person_name,
        row.last_message_at,
        row.last_message_excerpt,
        row.last_message_direction,
        row.last_message_status,
        row.unread,
        row.needs_reply,
        row.waiting_since,
    )


def summary_table() -> dict[tuple[int | None, int], tuple[Any, ...]]:
    return {
        (s.staff_id, s.person_id): (
            s.last_message_at,
            s.last_message_id,
            s.last_reply_at,
            s.last_answer_at,
            s.waiting_since,
            s.unread,
        )
        for s in ConversationSummary.objects.all()
    }


def assert_summaries_true(world: World) -> None:
    for owner in [*(Owner(s.pk) for s in world.staff), SHARED]:
        for show in Filter:
            assert [shown(r) for r in inbox.all_conversations(owner, show)] == expected_inbox(
                owner, world.students, show
            ), (owner, show)
    kept = summary_table()
    inbox_services.conversation_summaries_rebuild()
    assert summary_table() == kept


# --- what happens -------------------------------------------------------------------------


def number_of(staff: Person) -> str:
    held = SenderAssignment.objects.filter(person=staff, released_at__isnull=True).first()
    return held.sender_number.number if held is not None else NOBODYS_NUMBER


def send(world: World, staff: int, student: int) -> None:
    services.message_send(
        sender=world.staff[staff], recipient_id=world.students[student].pk, body="Can we meet?"
    )


def cohort(world: World, staff: int, students: list[int]) -> None:
    services.message_send_bulk(
        sender=world.staff[staff],
        recipient_ids=[world.students[i].pk for i in students],
        body="Registration opens Monday.",
    )


def fail(world: World, staff: int, error_code: int) -> None:
    """Twilio reports the staff member's latest queued text undelivered: 30003 schedules
    another attempt, 30006 disables the phone and falls back to email."""
    text = (
        Message.objects.filter(sender=world.staff[staff], channel=Channel.SMS, status="queued")
        .order_by("-id")
        .first()
    )
    if text is not None:
        status.message_status_apply(
            message_sid="", token=text.token, twilio_status="undelivered", error_code=error_code
        )


def reply(world: World, student: int, staff: int | None, body: str) -> None:
    inbound.message_inbound_receive(
        message_sid=f"SM{uuid.uuid4().hex}",
        from_number=world.phones[student].number,
        to_number=number_of(world.staff[staff]) if staff is not None else NOBODYS_NUMBER,
        body=body,
    )


def read(world: World, staff: int | None, student: int) -> None:
    owner = Owner(world.staff[staff].pk) if staff is not None else SHARED
    inbox_services.conversation_mark_read(owner=owner, person_id=world.students[student].pk)


staff_index = st.integers(min_value=0, max_value=STAFF - 1)
student_index = st.integers(min_value=0, max_value=STUDENTS - 1)
steps = st.lists(
    st.tuples(
        minutes,
        st.one_of(
            st.tuples(st.just(send), staff_index, student_index),
            st.tuples(
                st.just(cohort),
                staff_index,
                st.lists(student_index, min_size=1, max_size=STUDENTS, unique=True),
            ),
            st.tuples(st.just(fail), staff_index, st.sampled_from([30003, 30006])),
            st.tuples(
                st.just(reply),
                student_index,
                st.none() | staff_index,
                st.sampled_from(["Tuesday works", "Is this my advisor?", "STOP", "START", "HELP"]),
            ),
            st.tuples(st.just(read), st.none() | staff_index, student_index),
        ),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_the_summaries_always_say_what_the_messages_say(world: World, steps: Any) -> None:
    with transaction.atomic():
        for at, (action, *args) in steps:
            with time_machine.travel(T0 + timedelta(minutes=at), tick=False):
                action(world, *args)
            assert_summaries_true(world)
        transaction.set_rollback(True)


# --- one of each, by hand -----------------------------------------------------------------


def test_an_answer_recorded_after_newer_replies_waits_from_the_first_reply_after_it(
    world: World,
) -> None:
    alex, sam = world.staff[0], world.students[0]
    received(sam, alex, "first question", when=T0)
    second = received(sam, alex, "second question", when=T0 + timedelta(minutes=20))
    received(sam, alex, "third question", when=T0 + timedelta(minutes=30))
    # Recorded now, written at minute 10 (its transaction began before the replies').
    sent(alex, sam, "an answer", when=T0 + timedelta(minutes=10))

    (row,) = inbox.all_conversations(Owner(alex.pk))

    assert row.needs_reply and row.waiting_since == second.created_at
    assert_summaries_true(world)


def test_a_reply_recorded_after_a_newer_answer_does_not_wait(world: World) -> None:
    alex, sam = world.staff[0], world.students[0]
    sent(alex, sam, "an answer", when=T0 + timedelta(minutes=10))
    received(sam, alex, "an older question", when=T0)

    (row,) = inbox.all_conversations(Owner(alex.pk))

    assert not row.needs_reply and row.waiting_since is None
    assert row.last_message_direction == "outbound" and row.unread == 1
    assert_summaries_true(world)


def test_marking_read_takes_away_what_it_marked_and_no_more(world: World) -> None:
    alex, sam = world.staff[0], world.students[0]
    received(sam, alex, "one", when=T0)
    received(sam, alex, "two", when=T0 + timedelta(minutes=1))

    assert inbox_services.conversation_mark_read(owner=Owner(alex.pk), person_id=sam.pk) == 2
    received(sam, alex, "three", when=T0 + timedelta(minutes=2))

    (row,) = inbox.all_conversations(Owner(alex.pk))
    assert row.unread == 1
    assert_summaries_true(world)


def test_a_cohort_batch_is_one_statement_for_its_conversations(world: World) -> None:
    alex = world.staff[0]
    messages = [
        Message.objects.create(
            direction=Direction.OUTBOUND,
            sender=alex,
            recipient=student,
            channel=Channel.EMAIL,
            body="hi",
        )
        for student in world.students
    ]
    with CaptureQueriesContext(connection) as captured:
        inbox_services.conversations_record(messages)

    assert len(captured) == 1
    assert ConversationSummary.objects.filter(staff=alex).count() == STUDENTS
