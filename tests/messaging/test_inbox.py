"""The inbox's reads and its one write (V1, V3, V5): conversations latest first, unread, needs
reply, waiting since, opted out, filters, the shared inbox, marking read; the same number of
queries for 10 and for 1,000 conversations."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging import conversation, inbox, inbox_services
from messaging.conversation import SHARED, Owner
from messaging.inbox import Filter
from messaging.models import Channel, Direction, Message, Status
from people import services as people_services
from people.models import Person, SmsStatus, StatusCause
from tests import factories
from tests.messaging.inbox_support import at, received, sent

pytestmark = pytest.mark.django_db


@pytest.fixture
def alex() -> Person:
    return factories.staff(first_name="Alex", last_name="Advisor")


@pytest.fixture
def blair() -> Person:
    return factories.staff(first_name="Blair", last_name="Bursar")


def rows(owner: Owner, show: Filter = Filter.ALL) -> list[inbox.Conversation]:
    return list(inbox.conversation_page(owner, show))


def test_conversations_come_latest_activity_first_with_their_last_message(alex: Person) -> None:
    sam = factories.student(first_name="Sam", last_name="Rivera")
    tia = factories.student(first_name="Tia", last_name="Turner")
    sent(alex, sam, "Hi Sam", when=at(60))
    sent(alex, tia, "Hi Tia", when=at(50))
    received(sam, alex, "Tuesday   works\nfor me", when=at(10))

    found = rows(Owner(alex.pk))

    assert [(c.person_name, c.last_message_excerpt) for c in found] == [
        ("Sam Rivera", "Tuesday works for me"),
        ("Tia Turner", "Hi Tia"),
    ]
    assert [c.last_message_direction for c in found] == ["inbound", "outbound"]
    assert found[1].last_message_status == "delivered"


def test_unread_counts_the_inbound_texts_not_yet_opened_keywords_included(alex: Person) -> None:
    sam = factories.student()
    sent(alex, sam, when=at(30))
    received(sam, alex, "ok", when=at(20), read_at=at(19))
    received(sam, alex, "one more thing", when=at(10))
    received(sam, alex, "STOP", when=at(5), keyword="stop")

    (only,) = rows(Owner(alex.pk))

    assert only.unread == 2


def test_needs_reply_when_the_last_message_is_an_ordinary_inbound_text(alex: Person) -> None:
    waiting, answered, stopped = factories.student(), factories.student(), factories.student()
    sent(alex, waiting, when=at(300))
    first = received(waiting, alex, "question 1", when=at(200))
    received(waiting, alex, "question 2", when=at(100))
    received(answered, alex, "thanks", when=at(90))
    sent(alex, answered, "you're welcome", when=at(80))
    received(stopped, alex, "hello", when=at(70))
    received(stopped, alex, "STOP", when=at(60), keyword="stop")

    by_person = {c.person_id: c for c in rows(Owner(alex.pk))}

    assert by_person[waiting.pk].needs_reply is True
    assert by_person[waiting.pk].waiting_since == first.created_at
    assert by_person[answered.pk].needs_reply is False
    assert by_person[answered.pk].waiting_since is None
    assert by_person[stopped.pk].needs_reply is False


def test_waiting_counts_from_the_first_text_after_the_last_answer(alex: Person) -> None:
    sam = factories.student()
    received(sam, alex, "old question", when=at(500))
    sent(alex, sam, "old answer", when=at(400))
    newer = received(sam, alex, "new question", when=at(30))
    received(sam, alex, "hello?", when=at(20))

    (only,) = rows(Owner(alex.pk))

    assert only.waiting_since == newer.created_at


def test_a_student_who_texted_first_is_waiting_since_their_first_text(alex: Person) -> None:
    sam = factories.student()
    first = received(sam, alex, "hi, is this my advisor?", when=at(45))

    (only,) = rows(Owner(alex.pk))

    assert only.needs_reply and only.waiting_since == first.created_at


def test_filters_unread_and_needs_reply(alex: Person) -> None:
    unread_waiting, read_waiting, answered = (factories.student() for _ in range(3))
    received(unread_waiting, alex, when=at(30))
    received(read_waiting, alex, when=at(20), read_at=at(1))
    received(answered, alex, when=at(15))
    sent(alex, answered, when=at(10))

    assert {c.person_id for c in rows(Owner(alex.pk), Filter.UNREAD)} == {
        unread_waiting.pk,
        answered.pk,
    }
    assert {c.person_id for c in rows(Owner(alex.pk), Filter.NEEDS_REPLY)} == {
        unread_waiting.pk,
        read_waiting.pk,
    }
    assert len(rows(Owner(alex.pk))) == 3


def test_a_staff_member_sees_only_texts_attributed_to_them(alex: Person, blair: Person) -> None:
    sam = factories.student()
    sent(alex, sam, when=at(30))
    # Sent to the number Blair holds now, but attributed to Alex who texted Sam from it (V2).
    received(sam, alex, "reply for Alex", when=at(10), recipient=blair)

    assert [c.person_id for c in rows(Owner(alex.pk))] == [sam.pk]
    assert rows(Owner(blair.pk)) == []
    assert [m.body for m in conversation.conversation(staff=blair, person=sam)] == []
    assert [m.body for m in conversation.conversation(staff=alex, person=sam)] == [
        "Can we meet?",
        "reply for Alex",
    ]


def test_the_shared_inbox_holds_the_texts_nobody_could_be_given(alex: Person) -> None:
    sam, tia = factories.student(), factories.student()
    received(sam, None, "who is this?", when=at(10))
    received(tia, alex, "for Alex", when=at(5))

    shared = rows(SHARED)

    assert [(c.person_id, c.unread, c.needs_reply) for c in shared] == [(sam.pk, 1, True)]
    assert [m.body for m in conversation.conversation_of(SHARED, sam)] == ["who is this?"]


def test_automatic_answers_show_in_the_conversation_but_make_none(alex: Person) -> None:
    sam = factories.student()
    received(sam, alex, "HELP", when=at(10), keyword="help")
    Message.objects.create(
        direction=Direction.OUTBOUND,
        sender=None,
        recipient=sam,
        channel=Channel.SMS,
        body="This is the student success office.",
        status=Status.SENT,
        keyword="help",
    )
    other = factories.student()
    Message.objects.create(
        direction=Direction.OUTBOUND,
        sender=None,
        recipient=other,
        channel=Channel.SMS,
        body="This is the student success office.",
        status=Status.SENT,
        keyword="help",
    )

    assert [c.person_id for c in rows(Owner(alex.pk))] == [sam.pk]
    assert [m.body for m in conversation.conversation(staff=alex, person=sam)] == [
        "HELP",
        "This is the student success office.",
    ]


def test_opted_out_only_when_the_person_said_stop(alex: Person, cell: Any) -> None:
    stopped, disabled_by_hand, back_in = (factories.student() for _ in range(3))
    for person in (stopped, disabled_by_hand, back_in):
        received(person, alex, when=at(5))
    people_services.phone_status_set(
        phone=factories.PhoneFactory(person=stopped, phone_type=cell),
        status=SmsStatus.DISABLED,
        cause=StatusCause.OPT_OUT,
    )
    people_services.phone_status_set(
        phone=factories.PhoneFactory(person=disabled_by_hand, phone_type=cell),
        status=SmsStatus.DISABLED,
        cause=StatusCause.MANUAL,
    )
    phone = factories.PhoneFactory(person=back_in, phone_type=cell)
    people_services.phone_status_set(
        phone=phone, status=SmsStatus.DISABLED, cause=StatusCause.OPT_OUT
    )
    people_services.phone_status_set(
        phone=phone, status=SmsStatus.ENABLED, cause=StatusCause.OPT_IN
    )

    flags = {c.person_id: c.opted_out for c in rows(Owner(alex.pk))}

    assert flags == {stopped.pk: True, disabled_by_hand.pk: False, back_in.pk: False}


def test_marking_read_touches_only_that_conversation_of_that_owner(
    alex: Person, blair: Person
) -> None:
    sam, tia = factories.student(), factories.student()
    mine = received(sam, alex, when=at(10))
    other_person = received(tia, alex, when=at(9))
    blairs = received(sam, blair, when=at(8))
    shared = received(sam, None, when=at(7))

    assert inbox_services.conversation_mark_read(owner=Owner(alex.pk), person_id=sam.pk) == 1
    assert inbox_services.conversation_mark_read(owner=Owner(alex.pk), person_id=sam.pk) == 0

    read = {m.pk: m.read_at is not None for m in Message.objects.all()}
    assert read == {mine.pk: True, other_person.pk: False, blairs.pk: False, shared.pk: False}


def test_staff_with_inbound_lists_who_has_an_inbox(alex: Person, blair: Person) -> None:
    received(factories.student(), alex)
    sent(blair, factories.student())

    assert list(inbox.staff_with_inbound()) == [alex]


def _bulk_conversations(staff: Person, count: int) -> None:
    """`count` conversations (a text, and an unread reply waiting for an answer), written in a
    few statements."""
    role = factories.RoleFactory(code="student")
    people = Person.objects.bulk_create(
        [Person(first_name=f"S{i}", last_name="Bulk") for i in range(count)]
    )
    Person.roles.through.objects.bulk_create(
        [Person.roles.through(person_id=p.pk, role_id=role.pk) for p in people]
    )
    messages = []
    for person in people:
        messages.append(
            Message(
                direction=Direction.OUTBOUND,
                sender=staff,
                recipient=person,
                channel=Channel.SMS,
                body="hi",
                status=Status.DELIVERED,
            )
        )
        messages.append(
            Message(
                direction=Direction.INBOUND,
                sender=person,
                recipient=staff,
                attributed_to=staff,
                attribution="reply",
                channel=Channel.SMS,
                body="hello",
                status=Status.RECEIVED,
            )
        )
    Message.objects.bulk_create(messages, batch_size=500)


def _queries_for_a_page(owner: Owner, show: Filter, page: int) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        found = inbox.conversation_page(owner, show, page)
    return len(captured), len(found)


@pytest.mark.parametrize("show", list(Filter))
def test_a_page_costs_the_same_queries_for_10_and_1000_conversations(
    alex: Person, blair: Person, show: Filter
) -> None:
    _bulk_conversations(alex, 10)
    _bulk_conversations(blair, 1000)

    small = _queries_for_a_page(Owner(alex.pk), show, 1)
    large = _queries_for_a_page(Owner(blair.pk), show, 7)

    assert small == (3, 10)
    assert large == (3, inbox.PAGE_SIZE)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("short", "short"),
        ("  spaced\n\nout  ", "spaced out"),
        ("word " * 40, ("word " * 24).strip() + "…"),
        ("x" * 130, "x" * 119 + "…"),
    ],
)
def test_excerpt(body: str, expected: str) -> None:
    assert inbox.excerpt(body) == expected


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "waiting 1 min"),
        (59, "waiting 1 min"),
        (600, "waiting 10 min"),
        (3599, "waiting 59 min"),
        (3600, "waiting 1 h"),
        (3 * 3600 + 1200, "waiting 3 h"),
        (47 * 3600, "waiting 47 h"),
        (48 * 3600, "waiting 2 days"),
        (10 * 86400, "waiting 10 days"),
    ],
)
def test_waited_words(seconds: float, words: str) -> None:
    assert inbox.waited_words(seconds) == words
