"""The person page's route box says what a send would do now: the delivery plan with the month's
limit and the viewer's number (S2, S4, R6), and a page view assigns or reserves nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from messaging.models import Channel, Direction, Message, Status
from people.models import Person
from sms_admin import pool
from sms_admin import services as sms_admin_services
from sms_admin.models import MonthlyUsage, SenderAssignment
from tests import factories
from tests.factories import assignments
from tests.sending_support import pool_numbers


def route_box(viewer: Person, person: Person) -> str:
    client = Client()
    client.force_login(viewer.user)
    page = client.get(reverse("person-detail", args=[person.pk])).content.decode()
    return page.split('id="route"')[1].split("</div>")[0]


@pytest.fixture
def student(config: Any, cell: Any) -> Person:
    person = factories.student(first_name="Sam", email="sam@example.edu")
    factories.PhoneFactory(person=person, number="+12025550111", phone_type=cell)
    return person


def month_used(sent: int) -> None:
    year, month = pool.month_key()
    MonthlyUsage.objects.update_or_create(year=year, month=month, defaults={"sent": sent})


def test_a_held_number_and_room_this_month_mean_sms_from_that_number(
    advisor: Person, student: Person
) -> None:
    assignments.assignment(advisor, number="+12015550100")
    month_used(3)

    box = route_box(advisor, student)

    assert "SMS to +12025550111, from your number +12015550100." in box
    assert "This month: 3 of 10000 texts sent." in box
    assert "notice-info" in box


def test_when_the_months_limit_is_reached_the_box_says_the_text_goes_by_email(
    advisor: Person, student: Person
) -> None:
    assignments.assignment(advisor, number="+12015550100")
    sms_admin_services.configuration_update(actor=None, sms_message_limit=10)
    month_used(10)

    box = route_box(advisor, student)

    assert "SMS to" not in box
    assert (
        "Email to sam@example.edu, not a text, because this month&#x27;s texting limit is reached."
        in box
    )
    assert "This month: 10 of 10 texts sent; the limit is reached" in box
    assert "notice-warning" in box


def test_when_no_number_is_held_or_free_the_box_says_the_text_goes_by_email(
    advisor: Person, student: Person
) -> None:
    box = route_box(advisor, student)

    assert "SMS to" not in box
    assert (
        "Email to sam@example.edu, not a text, because the sender has no texting number and "
        "none is free." in box
    )


def test_when_the_phone_number_limit_is_reached_the_box_says_the_text_goes_by_email(
    advisor: Person, student: Person
) -> None:
    pool_numbers(1)
    assignments.assignment()  # somebody else holds the only allowed number
    sms_admin_services.configuration_update(actor=None, sms_phone_number_limit=1)

    box = route_box(advisor, student)

    assert "because the sender has no texting number and none is free" in box


def test_a_free_pool_number_is_announced_for_the_first_text_and_not_assigned_by_the_page(
    advisor: Person, student: Person
) -> None:
    pool_numbers(1)

    box = route_box(advisor, student)

    assert "SMS to +12025550111, from a pool number that your first text assigns to you." in box
    assert not SenderAssignment.objects.exists()
    assert not MonthlyUsage.objects.filter(sent__gt=0).exists()


def test_without_a_textable_phone_or_email_the_box_says_nothing_can_be_delivered(
    advisor: Person, config: Any
) -> None:
    person = factories.student(email="")
    factories.PhoneFactory(person=person, sms_status="disabled")

    box = route_box(advisor, person)

    assert (
        "Nowhere: nothing can be delivered, because no phone can receive texts and there is no "
        "email address." in box
    )
    assert "notice-error" in box


def test_the_limit_and_no_email_together_mean_nowhere_with_the_limit_as_the_reason(
    advisor: Person, config: Any, cell: Any
) -> None:
    person = factories.student(email="")
    factories.PhoneFactory(person=person, phone_type=cell)
    assignments.assignment(advisor)
    sms_admin_services.configuration_update(actor=None, sms_message_limit=1)
    month_used(1)

    box = route_box(advisor, person)

    assert (
        "Nowhere: nothing can be delivered, because this month&#x27;s texting limit is reached "
        "and there is no email address." in box
    )


def test_the_route_explanation_still_names_the_phones_passed_over(
    advisor: Person, student: Person, cell: Any
) -> None:
    assignments.assignment(advisor)
    factories.PhoneFactory(person=student, number="+12025550122", sms_status="disabled")

    box = route_box(advisor, student)

    assert "+12025550122: SMS Disabled" in box


def test_staff_who_may_not_send_see_where_a_text_goes_without_a_sender_number(
    student: Person,
) -> None:
    counselor = factories.staff("counselor", user=factories.UserFactory(username="counselor"))
    assignments.assignment(counselor, number="+12015550199")

    box = route_box(counselor, student)

    assert "A text sent now goes:</strong>\n        SMS to +12025550111." in box
    assert "+12015550199" not in box


# --- what the page says after a send --------------------------------------------------------


def send(viewer: Person, person: Person, capture: Any) -> str:
    """Post a text from the person page and return the flash list of the page it leads to."""
    client = Client()
    client.force_login(viewer.user)
    with capture(execute=True):
        response = client.post(reverse("person-send", args=[person.pk]), {"body": "Hello"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    return page.split('<ul class="flash"')[1].split("</ul>")[0]


def test_a_text_is_announced_as_a_success(
    advisor: Person, student: Person, sandbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assignments.assignment(advisor)

    flash = send(advisor, student, django_capture_on_commit_callbacks)

    assert '<li class="flash-success">Message recorded: SMS to +12025550111.</li>' in flash


def test_an_email_instead_of_a_text_is_a_warning_that_says_why(
    advisor: Person, config: Any, django_capture_on_commit_callbacks: Any
) -> None:
    person = factories.student(email="no.phone@example.edu")

    flash = send(advisor, person, django_capture_on_commit_callbacks)

    assert "flash-success" not in flash and "Message recorded" not in flash
    assert (
        '<li class="flash-warning">Not sent as a text: it goes by email to no.phone@example.edu '
        "instead, because no phone can receive texts.</li>" in flash
    )


def test_the_months_limit_sends_by_email_with_a_warning_naming_the_limit(
    advisor: Person, student: Person, django_capture_on_commit_callbacks: Any
) -> None:
    assignments.assignment(advisor)
    sms_admin_services.configuration_update(actor=None, sms_message_limit=1)
    month_used(1)

    flash = send(advisor, student, django_capture_on_commit_callbacks)

    assert "flash-warning" in flash
    assert "because this month&#x27;s texting limit is reached." in flash


def test_an_undeliverable_send_is_an_error_that_says_nothing_was_delivered(
    advisor: Person, config: Any, django_capture_on_commit_callbacks: Any
) -> None:
    person = factories.student(email="")

    flash = send(advisor, person, django_capture_on_commit_callbacks)

    assert "flash-success" not in flash and "Message recorded" not in flash
    assert (
        '<li class="flash-error">Nothing was delivered: no phone can receive texts and there is '
        "no email address.</li>" in flash
    )


def test_an_undeliverable_send_names_the_limit_when_the_limit_kept_it_from_being_a_text(
    advisor: Person, config: Any, cell: Any, django_capture_on_commit_callbacks: Any
) -> None:
    person = factories.student(email="")
    factories.PhoneFactory(person=person, phone_type=cell)
    assignments.assignment(advisor)
    sms_admin_services.configuration_update(actor=None, sms_message_limit=1)
    month_used(1)

    flash = send(advisor, person, django_capture_on_commit_callbacks)

    assert (
        "Nothing was delivered: this month&#x27;s texting limit is reached and there is no email "
        "address." in flash
    )


def test_the_send_button_is_disabled_with_the_reason_when_nothing_can_be_delivered(
    advisor: Person, config: Any
) -> None:
    person = factories.student(email="")
    client = Client()
    client.force_login(advisor.user)

    page = client.get(reverse("person-detail", args=[person.pk])).content.decode()

    assert (
        '<button type="submit" disabled data-undeliverable aria-describedby="send-blocked">'
        "Send</button>" in page
    )
    assert (
        '<p class="errorlist" id="send-blocked">Sending is off: nothing can be delivered, because '
        "no phone can receive texts and there is no email address.</p>" in page
    )


def test_the_send_button_is_enabled_when_the_text_can_go_by_email(
    advisor: Person, config: Any
) -> None:
    person = factories.student(email="kim@example.edu")
    client = Client()
    client.force_login(advisor.user)

    page = client.get(reverse("person-detail", args=[person.pk])).content.decode()

    assert (
        '<button type="submit" data-send-label="Send" data-schedule-label="Schedule">Send</button>'
        in page
    )
    assert "send-blocked" not in page


# --- the success team -----------------------------------------------------------------------


def texted(sender: Person, person: Person) -> None:
    Message.objects.create(
        direction=Direction.OUTBOUND,
        sender=sender,
        recipient=person,
        channel=Channel.SMS,
        body="Hi",
        status=Status.DELIVERED,
    )


def success_team_section(viewer: Person, person: Person) -> str:
    client = Client()
    client.force_login(viewer.user)
    page = client.get(reverse("person-detail", args=[person.pk])).content.decode()
    return page.split('id="success-team"')[1].split("</section>")[0]


def test_the_success_team_lists_only_staff_holding_a_number_now(
    advisor: Person, student: Person
) -> None:
    texted(advisor, student)
    gone = factories.staff(first_name="Ada", last_name="Released")
    texted(gone, student)
    released = assignments.assignment(gone, number="+12015550177")
    pool.sender_assignment_release(assignment_id=released.pk)
    assignments.assignment(advisor, number="+12015550100")

    team = success_team_section(advisor, student)

    assert advisor.full_name in team and "+12015550100" in team
    assert "Released" not in team and "+12015550177" not in team


def test_a_number_released_and_given_to_someone_else_is_not_shown_for_its_former_holder(
    advisor: Person, student: Person
) -> None:
    texted(advisor, student)
    released = assignments.assignment(advisor, number="+12015550100")
    pool.sender_assignment_release(assignment_id=released.pk)
    other = factories.staff(first_name="Ines", last_name="Newholder")
    SenderAssignment.objects.create(
        sender_number=released.sender_number,
        person=other,
        phone=factories.PhoneFactory(person=other, number="+12015550100"),
    )

    team = success_team_section(advisor, student)

    assert advisor.full_name not in team and "+12015550100" not in team
    assert "Nobody yet: no staff member who texted Sam holds a texting number now." in team


def test_the_text_msg_only_badge_explains_itself(advisor: Person, student: Person) -> None:
    texted(advisor, student)
    assignments.assignment(advisor, number="+12015550100")

    team = success_team_section(advisor, student)

    assert (
        '+12015550100 <span class="badge badge-sys" title="Texts only: this number takes no '
        'calls">Text Msg Only<span class="sr-only"> (texts only, no calls)</span></span>' in team
    )
    assert "the number takes texts only; it cannot take calls." in team
