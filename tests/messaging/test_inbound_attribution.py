"""An inbound text is attributed once, when the signed webhook records it (V2): to the staff
member who last texted that phone from that number within the reply window, else to the
number's holder (student-initiated, T7), else to the shared inbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import notifications, selectors
from messaging.models import Attribution, Message, Status
from people.models import SmsStatus, StatusCause
from sms_admin import pool
from sms_admin.models import SenderAssignment, SmsConfiguration
from tests import factories
from tests.twilio_bridge.webhook_client import (
    INBOUND_PATH,
    World,
    inbound_params,
    new_sid,
    signed_post,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: Any) -> World:
    return World()


@pytest.fixture
def text_in(world: World, django_capture_on_commit_callbacks: Any) -> Callable[..., Message]:
    """Post a text from the student's cell to `to_number` (the advisor's number by default)."""

    def post(body: str = "Tuesday works", *, to_number: str = "") -> Message:
        params = inbound_params(
            sid=new_sid(),
            from_number=world.cell.number,
            to_number=to_number or world.sender_number.number,
            body=body,
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_post(Client(), INBOUND_PATH, params)
        assert response.status_code == 200
        return Message.objects.get(twilio_sid=params["MessageSid"])

    return post


def release_and_give_to(world: World, person: Any) -> SenderAssignment:
    """The advisor's number is released and then assigned to `person` (no rest)."""
    SmsConfiguration.objects.update_or_create(pk=1, defaults={"number_quarantine_days": 0})
    pool.sender_assignment_release(assignment_id=world.system_phone.sender_assignment.pk)
    taken = pool.sender_number_ensure(person=person)
    assert taken is not None and taken.sender_number_id == world.sender_number.pk
    return taken


def test_a_reply_belongs_to_who_texted_even_after_the_number_went_to_someone_else(
    world: World, text_in: Any
) -> None:
    world.outbound_text()
    newcomer = factories.staff(first_name="Cy", last_name="Three")
    release_and_give_to(world, newcomer)

    message = text_in()

    assert (message.attributed_to, message.attribution) == (world.advisor, Attribution.REPLY)
    assert message.recipient == world.advisor
    assert message.is_reply is True


def test_a_reply_to_a_released_number_nobody_holds_still_belongs_to_who_texted(
    world: World, text_in: Any
) -> None:
    world.cell.sms_status = SmsStatus.DEFAULT
    world.cell.save()
    world.outbound_text()
    pool.sender_assignment_release(assignment_id=world.system_phone.sender_assignment.pk)

    message = text_in()

    assert (message.attributed_to, message.attribution) == (world.advisor, Attribution.REPLY)
    # A reply changes no status (T7).
    world.cell.refresh_from_db()
    assert world.cell.sms_status == SmsStatus.DEFAULT


def test_a_first_text_to_a_number_goes_to_its_holder_as_student_initiated(
    world: World, text_in: Any
) -> None:
    world.cell.sms_status = SmsStatus.DEFAULT
    world.cell.save()

    message = text_in("Hi, can I book an appointment?")

    assert (message.attributed_to, message.attribution) == (world.advisor, Attribution.HOLDER)
    assert message.is_reply is False
    world.cell.refresh_from_db()
    assert world.cell.sms_status == SmsStatus.ENABLED
    assert list(world.cell.status_changes.values_list("cause", flat=True)) == [
        StatusCause.STUDENT_INITIATED
    ]


def test_after_the_window_the_new_holder_gets_it_and_never_the_old_sender(
    world: World, text_in: Any
) -> None:
    old = world.outbound_text()
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    newcomer = factories.staff(first_name="Cy", last_name="Three")
    release_and_give_to(world, newcomer)

    message = text_in()

    assert (message.attributed_to, message.attribution) == (newcomer, Attribution.HOLDER)


def test_a_text_to_a_number_nobody_holds_and_nobody_texted_from_lands_in_the_shared_inbox(
    world: World, text_in: Any
) -> None:
    free = factories.SenderNumberFactory(number="+13035550100")

    message = text_in("Who is this?", to_number=free.number)

    assert (message.attributed_to, message.attribution) == (None, Attribution.SHARED)
    assert message.recipient is None
    assert message.sender == world.student


def test_a_text_that_failed_does_not_make_the_answer_a_reply(world: World, text_in: Any) -> None:
    world.outbound_text(status=Status.UNDELIVERED)

    message = text_in()

    assert message.attribution == Attribution.HOLDER


def test_the_offices_automatic_help_answer_is_not_a_text_to_reply_to(
    world: World, text_in: Any
) -> None:
    pool.sender_assignment_release(assignment_id=world.system_phone.sender_assignment.pk)
    text_in("HELP")

    message = text_in("thanks")

    assert (message.attributed_to, message.attribution) == (None, Attribution.SHARED)


def test_the_holders_text_from_another_number_does_not_make_a_reply(
    world: World, text_in: Any
) -> None:
    # The advisor texted the student from an earlier number; the student writes to the new one.
    world.outbound_text(from_number="+12015550199")

    message = text_in()

    assert (message.attributed_to, message.attribution) == (world.advisor, Attribution.HOLDER)


def test_the_staff_member_who_texted_last_from_the_number_gets_the_reply(
    world: World, text_in: Any
) -> None:
    # The number changed hands twice within the window: each holder texted the student.
    first = world.outbound_text()
    Message.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=2))
    second = factories.staff(first_name="Bo", last_name="Two")
    release_and_give_to(world, second)
    world.outbound_text(sender=second)
    pool.sender_assignment_release(assignment_id=SenderAssignment.objects.get(person=second).pk)
    third = factories.staff(first_name="Cy", last_name="Three")
    taken = pool.sender_number_ensure(person=third)
    assert taken is not None and taken.sender_number_id == world.sender_number.pk

    message = text_in()

    assert (message.attributed_to, message.attribution) == (second, Attribution.REPLY)


def test_the_attribution_facts_cost_two_queries_however_many_texts_the_number_sent(
    world: World,
) -> None:
    for _ in range(30):
        world.outbound_text()
    with CaptureQueriesContext(connection) as queries:
        facts = selectors.inbound_attribution_facts(
            from_number=world.cell.number,
            to_number=world.sender_number.number,
            at=timezone.now(),
            reply_window_days=30,
        )

    assert len(queries) == 2
    assert facts.last_text is not None and facts.last_text.sender.id == world.advisor.pk
    assert facts.holder is not None and facts.holder.name == "Alex Advisor"


# --- Who is told (C5) -------------------------------------------------------------------------


def test_a_reply_after_the_number_changed_hands_emails_only_who_texted(
    world: World, text_in: Any
) -> None:
    world.outbound_text()
    newcomer = factories.staff(first_name="Cy", last_name="Three", email="cy@example.edu")
    release_and_give_to(world, newcomer)

    text_in("Tuesday works")

    assert [email.to for email in mail.outbox] == [["alex.advisor@example.edu"]]
    assert mail.outbox[0].body.startswith("Hello Alex Advisor,")


def test_a_text_in_the_shared_inbox_emails_each_administrator_and_says_where_it_landed(
    world: World, text_in: Any
) -> None:
    factories.UserFactory(username="ops", is_staff=True, email="ops@example.edu")
    factories.UserFactory(username="root", is_superuser=True, email="root@example.edu")
    factories.UserFactory(username="gone", is_staff=True, is_active=False, email="g@example.edu")
    factories.UserFactory(username="noaddress", is_staff=True, email="")
    factories.UserFactory(username="plain", email="plain@example.edu")
    free = factories.SenderNumberFactory(number="+13035550100")

    text_in("Who is this?", to_number=free.number)

    # One email, the administrators in blind copy: nobody sees the others' addresses.
    [email] = mail.outbox
    assert email.to == []
    assert sorted(email.bcc) == ["ops@example.edu", "root@example.edu"]
    assert email.subject == "Sam Student texted the shared inbox"
    assert "landed in the shared inbox" in email.body
    assert '"Who is this?"' in email.body
    assert f"/people/{world.student.pk}/#conversation" in email.body
    # Nobody holds the number: no staff member is told.
    assert "alex.advisor@example.edu" not in email.recipients()


def test_a_text_recorded_before_attribution_and_not_yet_attributed_emails_nobody(
    world: World,
) -> None:
    message = Message.objects.create(
        direction="inbound", channel="sms", status=Status.RECEIVED, body="Hi",
        sender=world.student, recipient=world.advisor, from_number=world.cell.number,
        destination=world.sender_number.number,
    )  # fmt: skip

    assert notifications.reply_notification_email(message_id=message.pk) is None
    assert mail.outbox == []
