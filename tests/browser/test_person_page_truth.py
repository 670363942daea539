"""The person page tells the truth in Chromium: the route box says what a send does now (the
month's limit, the sender's number), and the page passes axe's WCAG 2 A/AA checks."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from messaging.models import Channel, Direction, Message, Status
from people import services as people_services
from people.models import Person
from sms_admin import pool
from sms_admin import services as sms_admin_services
from sms_admin.models import MonthlyUsage
from tests import factories
from tests.browser.axe import axe_violations
from tests.browser.conftest import Session
from tests.factories import assignments
from tests.sending_support import pool_numbers

pytestmark = pytest.mark.browser


@pytest.fixture
def student(config: Any, cell: Any, advisor: Person) -> Person:
    person = factories.student(
        first_name="Lena", last_name="Cho", src_system_id="STU-0077", email="lena.cho@example.edu"
    )
    factories.PhoneFactory(person=person, number="+12025550177", phone_type=cell)
    factories.PhoneFactory(person=person, number="+12025550178", sms_status="disabled")
    return person


def test_when_the_months_limit_is_reached_the_route_box_says_the_text_goes_by_email(
    session: Session, advisor: Person, student: Person
) -> None:
    assignments.assignment(advisor, number="+12015550100")
    sms_admin_services.configuration_update(actor=None, sms_message_limit=500)
    year, month = pool.month_key()
    MonthlyUsage.objects.create(year=year, month=month, sent=500)

    session.login("advisor")
    session.open(f"/people/{student.pk}/")
    route = session.page.locator("#route")

    expect(route).to_contain_text(
        "Email to lena.cho@example.edu, not a text, because this month's texting limit is reached."
    )
    expect(route).not_to_contain_text("SMS to")
    expect(route).to_contain_text("This month: 500 of 500 texts sent; the limit is reached")
    expect(route).to_contain_text("+12025550178: SMS Disabled")
    assert axe_violations(session.page) == []
    session.screenshot("person-page-limit-reached")


def test_a_first_text_announces_the_pool_number_it_will_be_given(
    session: Session, advisor: Person, student: Person
) -> None:
    pool_numbers(1)
    session.login("advisor")
    session.open(f"/people/{student.pk}/")

    expect(session.page.locator("#route")).to_contain_text(
        "SMS to +12025550177, from a pool number that your first text assigns to you."
    )
    assert axe_violations(session.page) == []


def test_a_send_that_can_go_nowhere_has_a_disabled_button_that_says_why(
    session: Session, advisor: Person, config: Any
) -> None:
    person = factories.student(first_name="Noor", last_name="Haddad", email="")
    factories.PhoneFactory(person=person, number="+12025550188", sms_status="disabled")
    assignments.assignment(advisor)

    session.login("advisor")
    session.open(f"/people/{person.pk}/")
    page = session.page
    send = page.get_by_role("button", name="Send")
    page.get_by_label("Text message").fill("Are you coming on Tuesday?")

    expect(send).to_be_disabled()
    expect(send).to_have_accessible_description(
        "Sending is off: nothing can be delivered, because no phone can receive texts and there "
        "is no email address."
    )
    expect(page.locator("#route")).to_contain_text("Nowhere: nothing can be delivered")
    assert axe_violations(page) == []
    session.screenshot("person-page-undeliverable")


def test_a_text_that_goes_by_email_is_announced_as_a_warning_not_a_success(
    session: Session, advisor: Person, student: Person
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=0)

    session.login("advisor")
    session.open(f"/people/{student.pk}/")
    session.page.get_by_label("Text message").fill("Registration opens Monday.")
    session.page.get_by_role("button", name="Send").click()

    flash = session.page.locator(".flash li")
    expect(flash).to_have_text(
        "Not sent as a text: it goes by email to lena.cho@example.edu instead, because the "
        "sender has no texting number and none is free."
    )
    expect(flash).to_have_class("flash-warning")
    assert axe_violations(session.page) == []
    session.screenshot("person-page-sent-by-email")


def test_the_success_team_shows_current_holders_and_text_msg_only_explains_itself(
    session: Session, advisor: Person, student: Person
) -> None:
    assignments.assignment(advisor, number="+12015550100")
    former = factories.staff(first_name="Ada", last_name="Former")
    released = assignments.assignment(former, number="+12015550101")
    pool.sender_assignment_release(assignment_id=released.pk)
    for sender in (advisor, former):
        Message.objects.create(
            direction=Direction.OUTBOUND,
            sender=sender,
            recipient=student,
            channel=Channel.SMS,
            body="Hi Lena",
            status=Status.DELIVERED,
        )

    session.login("advisor")
    session.open(f"/people/{student.pk}/")
    team = session.page.locator("#success-team")

    expect(team.get_by_role("listitem")).to_have_count(1)
    expect(team).not_to_contain_text("Ada Former")
    badge = team.get_by_role("listitem").locator(".badge-sys")
    expect(badge).to_have_text("Text Msg Only (texts only, no calls)")
    expect(badge).to_have_attribute("title", "Texts only: this number takes no calls")
    expect(team).to_contain_text("the number takes texts only; it cannot take calls.")
    assert axe_violations(session.page) == []


def test_the_person_page_and_its_compose_box_fit_a_390_pixel_phone_screen(
    session: Session, advisor: Person, student: Person, sandbox: Any
) -> None:
    assignments.assignment(advisor, number="+12015550100")
    Message.objects.create(
        direction=Direction.OUTBOUND,
        sender=advisor,
        recipient=student,
        channel=Channel.SMS,
        destination="+12025550177",
        body="Hi Lena, the advising office moved to Building C, room 204; see you Tuesday?",
        status=Status.DELIVERED,
    )
    phone = student.phones.get(number="+12025550178")
    people_services.phone_update(phone=phone, actor=advisor.user, sms_status="enabled")
    people_services.phone_update(phone=phone, actor=advisor.user, sms_status="disabled")

    session.page.set_viewport_size({"width": 390, "height": 844})
    session.login("advisor")
    session.open(f"/people/{student.pk}/")
    page = session.page
    page.get_by_label("Text message").fill("See you Tuesday at 10 in room 204.")

    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= 390, widths
    for box in ("#phones", "#compose", "#route", "#conversation", "#status-history"):
        right = page.evaluate(
            f"() => document.querySelector('{box}').getBoundingClientRect().right"
        )
        assert right <= 390, (box, right)
    send = page.get_by_role("button", name="Send").bounding_box()
    assert send is not None and send["x"] + send["width"] <= 390
    # Every element a person sees ends within the screen (one clipped by an ancestor does not).
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter((e) => {
            if (e.getBoundingClientRect().right <= 390) return false;
            for (let a = e.parentElement; a; a = a.parentElement) {
                const clips = getComputedStyle(a).overflowX !== 'visible';
                if (clips && a.getBoundingClientRect().right <= 390) return false;
            }
            return true;
        }).map((e) => e.tagName + (e.id ? '#' + e.id : ''))"""
    )
    assert overflowing == []
    assert axe_violations(page) == []
    session.screenshot("person-page-390px")

    page.get_by_role("button", name="Send").click()
    expect(page.locator(".flash li")).to_have_text("Message recorded: SMS to +12025550177.")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
