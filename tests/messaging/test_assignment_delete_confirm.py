"""The question before an assignment is deleted (Q2): how many people were texted from the number
within the reply window, and that their replies keep reaching whoever texted them (V2)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from messaging import selectors
from messaging.models import Channel, Direction, Message, Status
from sms_admin.models import SenderAssignment, SmsConfiguration
from tests import factories
from tests.factories import assignments

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(staff: Any, person: Any, number: str, *, days_ago: float = 1, **fields: Any) -> Message:
    message = Message.objects.create(
        direction=Direction.OUTBOUND, channel=Channel.SMS, status=fields.pop("status", Status.SENT),
        sender=staff, recipient=person, from_number=number, destination="+12025550100",
        body="Can we meet?", **fields,
    )  # fmt: skip
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return message


def words(response: Any) -> str:
    """The page's text without tags, runs of white space made one."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def held(config: Any) -> SenderAssignment:
    return assignments.assignment(
        factories.staff(first_name="Ada", last_name="One"), number="+12015550100"
    )


def confirm_url(held: SenderAssignment) -> str:
    return reverse("sms-assignment-delete-confirm", args=[held.pk])


def test_the_confirmation_counts_the_people_texted_and_names_who_their_replies_reach(
    admin_user: Any, held: SenderAssignment
) -> None:
    number = held.sender_number.number
    students = [factories.student() for _ in range(3)]
    for student in students:
        text(held.person, student, number, days_ago=2)
    text(held.person, students[0], number, days_ago=1)  # the same person again: counted once
    earlier = factories.staff(first_name="Bo", last_name="Two")
    text(earlier, students[1], number, days_ago=20)
    text(held.person, factories.student(), number, days_ago=31)  # outside the window
    text(held.person, factories.student(), number, status=Status.FAILED)  # never reached them
    text(held.person, factories.student(), "+12015550199")  # another number

    response = login(admin_user).get(confirm_url(held))

    assert response.status_code == 200
    page = words(response)
    assert "Delete the assignment of +12015550100 to Ada One?" in page
    assert "3 people were texted from +12015550100 in the last 30 days." in page
    assert (
        "Their replies will keep reaching the staff member who texted them, not the number's "
        "next holder, for up to 30 days after that text" in page
    )
    assert "Ada One: 3 people" in page
    assert "Bo Two: 1 person" in page
    until = timezone.localtime(timezone.now() - timedelta(days=1) + timedelta(days=30))
    assert f"until {until:%Y-%m-%d} " in page
    assert "It rests for 30 days before it is given to someone new" in page
    # The answer is the existing delete, which comes back to the grid.
    assert (
        f'action="{reverse("sms-assignment-delete", args=[held.pk])}"' in response.content.decode()
    )


def test_a_number_nobody_was_texted_from_says_no_reply_is_expected(
    admin_user: Any, held: SenderAssignment
) -> None:
    SmsConfiguration.objects.filter(pk=1).update(number_quarantine_days=0, reply_window_days=7)
    text(held.person, factories.student(), held.sender_number.number, days_ago=8)

    page = words(login(admin_user).get(confirm_url(held)))

    assert "Nobody was texted from +12015550100 in the last 7 days" in page
    assert "It can be given to someone new at once." in page


def test_an_assignment_already_deleted_says_so_and_offers_no_delete(
    admin_user: Any, held: SenderAssignment
) -> None:
    SenderAssignment.objects.filter(pk=held.pk).update(released_at=timezone.now())

    response = login(admin_user).get(confirm_url(held))

    assert "This number was already un-assigned" in words(response)
    assert "Delete the assignment</button>" not in response.content.decode()


def test_the_confirmation_of_an_unknown_assignment_is_404(admin_user: Any, config: Any) -> None:
    response = login(admin_user).get(reverse("sms-assignment-delete-confirm", args=[424242]))

    assert response.status_code == 404


def test_only_administrators_see_the_confirmation(advisor: Any, held: SenderAssignment) -> None:
    assert login(advisor.user).get(confirm_url(held)).status_code == 403
    anonymous = Client().get(confirm_url(held))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_the_grid_links_each_delete_to_its_confirmation_and_keeps_the_grid_page(
    admin_user: Any, held: SenderAssignment
) -> None:
    page = login(admin_user).get(reverse("sms-config-twilio"), {"q": "Ada"}).content.decode()

    assert f'href="{confirm_url(held)}?next=/sms-configuration/twilio/%3Fq%3DAda"' in page
    confirm = login(admin_user).get(confirm_url(held), {"next": "/sms-configuration/twilio/?q=Ada"})
    assert 'name="next" value="/sms-configuration/twilio/?q=Ada"' in confirm.content.decode()


def test_a_next_outside_the_twilio_tab_is_not_followed(
    admin_user: Any, held: SenderAssignment
) -> None:
    confirm = login(admin_user).get(confirm_url(held), {"next": "https://evil.example/"})

    assert "evil.example" not in confirm.content.decode()


def test_the_release_facts_cost_two_queries_however_many_texts(held: SenderAssignment) -> None:
    for _ in range(20):
        text(held.person, factories.student(), held.sender_number.number)

    with CaptureQueriesContext(connection) as queries:
        facts = selectors.number_release_facts(
            number=held.sender_number.number, reply_window_days=30
        )

    assert (facts.people, len(queries)) == (20, 2)
