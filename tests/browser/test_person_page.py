"""The person page in Chromium: phones and their edit control, the route, the compose box with
its live count, the refusal for staff without a permitted role (P3, P4, R6, S1, S5, T10)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from messaging.models import Channel, Direction, Message, Status
from people import services as people_services
from people.models import Person
from tests import factories
from tests.browser.conftest import Session
from tests.factories import assignments

pytestmark = pytest.mark.browser


@pytest.fixture
def student(config: Any, cell: Any, advisor: Person) -> Person:
    person = factories.student(first_name="Sam", last_name="Rivera", src_system_id="STU-0042")
    people_services.phone_create(
        person=person, number="+12025550111", phone_type=cell, verified_by=advisor.user
    )
    home = factories.PhoneTypeFactory(code="home", name="Home")
    factories.PhoneFactory(person=person, number="+12025550122", phone_type=home)
    assignments.assignment(advisor, number="+12015550100")
    text = Message.objects.create(
        direction=Direction.OUTBOUND,
        sender=advisor,
        recipient=person,
        channel=Channel.SMS,
        destination="+12025550111",
        body="Hi Sam, can we meet Tuesday?",
        status=Status.DELIVERED,
    )
    Message.objects.create(
        direction=Direction.INBOUND,
        sender=person,
        recipient=advisor,
        channel=Channel.SMS,
        destination="+12015550100",
        from_number="+12025550111",
        body="Yes, 10am works.",
        status=Status.RECEIVED,
    )
    Message.objects.create(
        direction=Direction.OUTBOUND,
        sender=advisor,
        recipient=person,
        channel=Channel.EMAIL,
        destination=person.email,
        body="Reminder: Tuesday 10am.",
        status=Status.SENT,
        replaces=text,
    )
    return person


def test_a_permitted_advisor_counts_characters_and_a_1001_character_text_cannot_be_sent(
    session: Session, advisor: Person, student: Person, sandbox: Any
) -> None:
    session.login("advisor")
    session.open(f"/people/{student.pk}/")
    page = session.page
    expect(page.locator("#route")).to_contain_text("SMS to +12025550111")
    expect(page.locator("#route-explanation")).to_contain_text(
        "it is SMS Default with the default SMS phone type (cell)"
    )
    expect(page.locator("#success-team")).to_contain_text("Text Msg Only")
    expect(page.locator("#conversation")).to_contain_text("Email fallback for text")
    check = page.locator("#last-verified .check")
    assert check.get_attribute("title").startswith("Verified by advisor on ")

    box = page.get_by_label("Text message")
    counts = page.locator(".counter")
    box.fill("Hello Sam")
    expect(counts).to_contain_text("9 / 1000 characters")
    expect(counts).to_contain_text("GSM-7")
    expect(counts).to_contain_text("1 segment")
    box.fill("x" * 161)
    expect(counts).to_contain_text("2 segments")
    box.fill("Bonne journée ☀")
    expect(counts).to_contain_text("UCS-2")
    box.fill("Ç" * 70 + "☀")
    expect(counts).to_contain_text("2 segments")
    box.fill("See you Tuesday at 10 in room 204.")
    session.screenshot("person-page")

    box.fill("x" * 1001)
    send = page.get_by_role("button", name="Send")
    expect(page.locator("[data-count=reason]")).to_have_text(
        "Too long: the limit is 1000 characters (smsMaxLength); remove 1."
    )
    expect(send).to_be_disabled()
    # Even when the browser's check is bypassed, the server refuses and says why.
    page.evaluate("document.querySelector('[data-compose]').submit()")
    expect(page.locator("#compose-error")).to_contain_text(
        "The text is 1001 characters; the limit is 1000 (smsMaxLength)."
    )
    assert Message.objects.count() == 3

    page.get_by_label("Text message").fill("Hello Sam")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Message recorded: SMS to +12025550111."
    )
    text = Message.objects.get(body="Hello Sam")
    item = page.locator(f"#message-{text.pk}")
    expect(item).to_contain_text("SMS")
    expect(item).to_contain_text("to +12025550111")
    expect(item).to_contain_text("sent")
    assert [c["form"]["From"] for c in sandbox.creates()] == ["+12015550100"]


def test_staff_without_a_permitted_role_see_no_compose_box(
    session: Session, student: Person
) -> None:
    factories.staff("counselor", user=factories.UserFactory(username="counselor"))
    session.login("counselor")
    session.open(f"/people/{student.pk}/")
    page = session.page
    expect(page.locator("#compose-refusal")).to_have_text(
        "None of your roles is permitted to send texts; only staff holding a permitted role "
        "may (Advisor)."
    )
    expect(page.get_by_label("Text message")).to_have_count(0)
    expect(page.locator("#route")).to_be_visible()
    session.screenshot("person-page-not-permitted")


def test_editing_a_phones_status_shows_it_and_records_it_in_the_history(
    session: Session, advisor: Person, student: Person
) -> None:
    phone = student.phones.get(number="+12025550122")
    session.login("advisor")
    session.open(f"/people/{student.pk}/")
    page = session.page
    page.get_by_label(f"SMS status of {phone.number}").select_option("enabled")
    page.locator(f"#phone-{phone.pk}").get_by_role("button", name="Save").click()
    expect(page.locator(f"#phone-{phone.pk}")).to_contain_text("SMS Enabled")
    expect(page.locator("#status-history")).to_contain_text("Changed by hand")
    expect(page.locator("#route")).to_contain_text("SMS to +12025550122")
    phone.refresh_from_db()
    assert phone.sms_status == "enabled"


def test_a_staff_members_own_profile_shows_the_system_type(
    session: Session, advisor: Person, student: Person
) -> None:
    session.login("advisor")
    session.open(f"/people/{advisor.pk}/")
    row = session.page.locator("#phones tr", has_text="+12015550100")
    expect(row).to_contain_text("System")
    expect(session.page.get_by_text("Text Msg Only")).to_have_count(0)
    session.screenshot("person-page-staff")


def test_a_students_own_stop_is_lifted_only_by_an_administrator_with_a_reason(
    session: Session, advisor: Person, student: Person, admin_user: Any
) -> None:
    phone = student.phones.get(number="+12025550111")
    people_services.phone_status_set(phone=phone, status="disabled", cause="opt_out")
    row = session.page.locator(f"#phone-{phone.pk}")

    session.login("advisor")
    session.open(f"/people/{student.pk}/")
    expect(session.page.get_by_label(f"SMS status of {phone.number}")).to_be_disabled()
    expect(row).to_contain_text("Only an administrator can lift the person's own opt-out")
    session.screenshot("person-page-opt-out-locked")

    session.page.context.clear_cookies()
    session.login("admin")
    session.open(f"/people/{student.pk}/")
    session.page.get_by_label(f"SMS status of {phone.number}").select_option("enabled")
    row.get_by_label("Reason").fill("Asked at the front desk to get texts again.")
    row.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("SMS Enabled")
    expect(session.page.locator("#status-history")).to_contain_text(
        "Reason: Asked at the front desk to get texts again."
    )
    phone.refresh_from_db()
    assert phone.sms_status == "enabled"
