"""The SMS Configuration page in Chromium: each tab saves on its own, the live preview, the
negative-limit error, and deleting a number from the Phone Number Usage grid after a page that
says where the replies to its texts will go (C1-C10, S8, Q1, Q2)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from messaging.models import Channel, Direction, Message, Status
from sms_admin.models import (
    ConfigurationChange,
    MonthlyUsage,
    SenderAssignment,
    SenderNumber,
    SmsConfiguration,
)
from sms_admin.pool import month_key as institution_month
from tests import factories
from tests.browser.axe import axe_violations
from tests.browser.conftest import Session
from tests.factories import assignments

pytestmark = pytest.mark.browser


def test_general_settings_save_on_their_own_and_appear_in_the_history(
    session: Session, admin_user: Any, config: SmsConfiguration
) -> None:
    factories.RoleFactory(code="faculty", name="Faculty")
    session.login("admin")
    session.screenshot("home")
    session.open("/sms-configuration/general/")
    page = session.page
    page.get_by_label("Opted out").first.check()
    page.get_by_label("Faculty").check()
    session.screenshot("sms-configuration-general")
    page.get_by_role("button", name="Save General Settings").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved.")
    config.refresh_from_db()
    assert config.student_sms_default == "opted_out"
    assert set(config.permitted_roles.values_list("code", flat=True)) == {"advisor", "faculty"}
    page.get_by_role("link", name="Change history").click()
    expect(page.locator("#history")).to_contain_text("Student SMS default status")
    expect(page.locator("#history")).to_contain_text("Opted out")
    expect(page.locator("#history")).not_to_contain_text("student_sms_default")
    assert axe_violations(page) == []
    assert ConfigurationChange.objects.filter(changed_by=admin_user).count() == 2
    session.screenshot("sms-configuration-history")


def test_the_email_template_previews_live_and_a_bad_placeholder_is_shown_at_its_field(
    session: Session, admin_user: Any, config: SmsConfiguration
) -> None:
    session.login("admin")
    session.open("/sms-configuration/email/")
    page = session.page
    page.get_by_label("Subject").fill("{student_name} wrote back to {staff_name}")
    expect(page.locator("#preview-subject")).to_have_text("Sam Student wrote back to Alex Advisor")
    expect(page.get_by_role("cell", name="{conversation_link}")).to_be_visible()
    session.screenshot("sms-configuration-email")
    page.get_by_label("Subject").fill("Reply from {studnet}")
    page.get_by_role("button", name="Save Email Notifications").click()
    error = page.locator("#field-reply_notification_subject .errorlist")
    expect(error).to_contain_text("Unknown placeholder {studnet}")
    config.refresh_from_db()
    assert "{studnet}" not in config.reply_notification_subject


def test_a_negative_limit_is_refused_next_to_the_field(
    session: Session, superuser: Any, config: SmsConfiguration
) -> None:
    year, month = institution_month()
    MonthlyUsage.objects.create(year=year, month=month, sent=1234)
    assignments.assignment(factories.staff(first_name="Alex", last_name="Advisor"))
    session.login("root")
    session.open("/sms-configuration/twilio/")
    page = session.page
    expect(page.locator("#sent-figures")).to_have_text("1234 / 10000")
    expect(page.locator("#assigned-figures")).to_have_text("1 / 5")
    session.screenshot("sms-configuration-twilio")
    page.get_by_label("SMS message limit per month").fill("-5")
    page.get_by_role("button", name="Save limits").click()
    expect(page.locator("#field-sms_message_limit .errorlist")).to_have_text(
        "The limit cannot be negative; enter 0 or more."
    )
    config.refresh_from_db()
    assert config.sms_message_limit == 10000


def test_deleting_a_number_from_the_usage_grid_asks_first_and_then_frees_it(
    session: Session, admin_user: Any, config: SmsConfiguration
) -> None:
    kept = assignments.assignment(factories.staff(first_name="Kim", last_name="Keeps"))
    doomed = assignments.assignment(factories.staff(first_name="Dana", last_name="Leaves"))
    lena = factories.student(first_name="Lena", last_name="Cho")
    Message.objects.create(
        direction=Direction.OUTBOUND, channel=Channel.SMS, status=Status.DELIVERED,
        sender=doomed.person, recipient=lena, from_number=doomed.sender_number.number,
        destination="+12025550100", body="Can we meet on Tuesday?",
    )  # fmt: skip
    session.login("admin")
    session.open("/sms-configuration/twilio/?q=Dana")
    page = session.page
    grid = page.locator("#usage-grid")
    expect(grid).to_contain_text("Dana Leaves")
    expect(grid).not_to_contain_text("Kim Keeps")
    trash = page.get_by_role("link", name=f"Delete the assignment of {doomed.sender_number}")

    # The question first, on its own page: nothing is deleted by opening it, or by cancelling.
    trash.click()
    question = page.locator("#delete-confirm")
    expect(question).to_contain_text(
        f"Delete the assignment of {doomed.sender_number} to Dana Leaves?"
    )
    expect(question).to_contain_text(
        f"1 person was texted from {doomed.sender_number} in the last 30 days."
    )
    expect(question).to_contain_text("Their replies will keep reaching the staff member")
    expect(question).to_contain_text("Dana Leaves: 1 person")
    assert axe_violations(page) == []
    session.screenshot("sms-assignment-delete-confirm")
    page.get_by_role("link", name="Cancel").click()
    expect(grid).to_contain_text("Dana Leaves")
    assert SenderAssignment.objects.get(pk=doomed.pk).released_at is None

    trash.click()
    page.get_by_role("button", name="Delete the assignment").click()
    expect(page.get_by_role("status").first).to_contain_text("is no longer assigned to Dana")
    # Back on the grid page it came from (the search kept).
    expect(page.get_by_label("Search person or number")).to_have_value("Dana")
    expect(grid).not_to_contain_text("Dana Leaves")
    expect(page.locator("#assigned-figures")).to_have_text("1 / 5")
    doomed.refresh_from_db()
    assert doomed.released_at is not None and doomed.phone.deleted
    assert SenderAssignment.objects.get(pk=kept.pk).released_at is None


def test_the_rest_of_a_released_number_is_set_on_the_twilio_tab(
    session: Session, admin_user: Any, config: SmsConfiguration
) -> None:
    session.login("admin")
    session.open("/sms-configuration/twilio/")
    page = session.page
    days = page.get_by_label("Days a released number rests")
    expect(days).to_have_value("30")
    days.fill("400")
    page.get_by_role("button", name="Save number reuse").click()
    expect(page.locator("#field-number_quarantine_days .errorlist")).to_have_text(
        "Enter a number of days from 0 to 365."
    )
    page.get_by_label("Days a released number rests").fill("14")
    page.get_by_role("button", name="Save number reuse").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved.")
    config.refresh_from_db()
    assert config.number_quarantine_days == 14
    assert axe_violations(page, "#number-reuse") == []


def test_the_sending_pace_is_explained_and_set_on_the_twilio_tab(
    session: Session, admin_user: Any, config: SmsConfiguration
) -> None:
    session.login("admin")
    session.open("/sms-configuration/twilio/")
    page = session.page
    pace = page.get_by_label("Segments a second per sender number")
    expect(pace).to_have_value("0")
    expect(page.locator("#pacing")).to_contain_text("gives up on texts still waiting")
    pace.fill("1001")
    page.get_by_role("button", name="Save sending pace").click()
    expect(page.locator("#field-sender_segments_per_second .errorlist")).to_have_text(
        "Enter a whole number of segments a second from 0 to 1000 (1 for a long code; 0 for "
        "no pacing)."
    )
    assert axe_violations(page, "#pacing") == []
    page.get_by_label("Segments a second per sender number").fill("1")
    page.get_by_role("button", name="Save sending pace").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved.")
    expect(page.get_by_label("Segments a second per sender number")).to_have_value("1")
    config.refresh_from_db()
    assert config.sender_segments_per_second == 1
    page.locator("#pacing").scroll_into_view_if_needed()
    session.screenshot("sms-configuration-twilio-pacing")


def test_adding_to_the_pool_shows_the_outcome_where_the_administrator_is_looking(
    session: Session, admin_user: Any, config: SmsConfiguration
) -> None:
    """The pool's form is far down the tab: after the page reloads, the refusal (next to the
    field, with what was typed) and the confirmation are in view, not at the top of the page."""
    for n in range(12):
        factories.SenderNumberFactory(number=f"+1201555{n:04d}")
    session.login("admin")
    session.open("/sms-configuration/twilio/")
    page = session.page
    number = page.get_by_label("Add a provisioned number")
    number.fill("abc")
    page.get_by_role("button", name="Add to pool").click()
    error = page.locator("#field-number .errorlist")
    expect(error).to_contain_text("'abc' is not a phone number.")
    expect(error).to_be_in_viewport()
    number = page.get_by_label("Add a provisioned number")
    expect(number).to_have_value("abc")
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_have_accessible_description(re.compile("'abc' is not a phone number"))
    assert page.evaluate("window.scrollY") > 600  # the pool is far from the top of the page
    assert axe_violations(page, "#pool") == []

    number.fill("+1 201 555 0003")
    page.get_by_role("button", name="Add to pool").click()
    expect(page.locator("#field-number .errorlist")).to_have_text(
        "+12015550003 is already in the pool."
    )
    expect(page.locator("#field-number .errorlist")).to_be_in_viewport()
    expect(page.get_by_label("Add a provisioned number")).to_have_value("+1 201 555 0003")

    page.get_by_label("Add a provisioned number").fill("+1 201 555 0099")
    page.get_by_role("button", name="Add to pool").click()
    added = page.locator("#pool [role=status]")
    expect(added).to_have_text("+12015550099 added to the pool.")
    expect(added).to_be_in_viewport()
    expect(page.get_by_label("Add a provisioned number")).to_have_value("")
    expect(page.locator("#pool")).to_contain_text("+12015550099")
    assert axe_violations(page) == []
    assert SenderNumber.objects.count() == 13
