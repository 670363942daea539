"""Rough edges of the SMS Configuration page in Chromium, each page checked with axe: saving
with no permitted role asks first, the meters' colours, the live preview's unknown placeholder,
the change history in words."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from playwright.sync_api import expect

from sms_admin import notifications, pool
from sms_admin import services as sms_admin_services
from sms_admin.models import MonthlyUsage, SmsConfiguration
from tests.browser.axe import axe_violations
from tests.browser.conftest import Session
from tests.factories import assignments

pytestmark = pytest.mark.browser


def test_unchecking_every_role_asks_before_nobody_can_send(
    session: Session, admin_user: Any, config: SmsConfiguration
) -> None:
    session.login("admin")
    session.open("/sms-configuration/general/")
    page = session.page
    page.get_by_label("advisor").uncheck()
    page.get_by_role("button", name="Save General Settings").click()

    expect(page.get_by_role("alert").first).to_contain_text(
        "No role is checked, so nobody will be able to send texts."
    )
    expect(page.locator("#confirm-no-senders")).to_contain_text(
        "Nobody will be able to send texts."
    )
    assert axe_violations(page) == []
    session.screenshot("sms-configuration-no-role-confirm")
    config.refresh_from_db()
    assert config.permitted_roles.exists()

    page.get_by_label("advisor").uncheck()
    page.get_by_label("Yes, save with no role: nobody will be able to send texts").check()
    page.get_by_role("button", name="Save General Settings").click()

    expect(page.get_by_role("status").first).to_contain_text("Saved.")
    config.refresh_from_db()
    assert not config.permitted_roles.exists()


OK_GREEN = "rgb(29, 122, 62)"  # --ok
AMBER = "rgb(154, 100, 0)"  # --warn
RED = "rgb(179, 38, 30)"  # --err


@pytest.mark.parametrize(
    ("sent", "assigned", "colour", "state", "shot"),
    [
        (200, 1, OK_GREEN, "20% of the limit used.", None),
        (
            800,
            4,
            AMBER,
            "80% of the limit used: nearing the limit.",
            "sms-configuration-meters-amber",
        ),
        (1000, 5, RED, "The limit is reached.", "sms-configuration-meters-red"),
    ],
)
def test_the_meters_turn_amber_at_80_percent_and_red_at_the_limit(
    session: Session,
    admin_user: Any,
    config: SmsConfiguration,
    sent: int,
    assigned: int,
    colour: str,
    state: str,
    shot: str | None,
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=1000)
    year, month = pool.month_key()
    MonthlyUsage.objects.create(year=year, month=month, sent=sent)
    for _ in range(assigned):
        assignments.assignment()
    session.login("admin")
    session.open("/sms-configuration/twilio/")
    page = session.page

    for meter in ("#sent-meter", "#assigned-meter"):
        block = page.locator(meter)
        expect(block.locator(".meter-state")).to_have_text(state)
        assert block.evaluate("e => getComputedStyle(e).borderLeftColor") == colour
        if colour != OK_GREEN:
            for part in (".figures", ".meter-state"):
                assert block.locator(part).evaluate("e => getComputedStyle(e).color") == colour
    assert axe_violations(page) == []
    if shot:
        page.locator("#sent-meter").scroll_into_view_if_needed()
        session.screenshot(shot)


def test_the_live_preview_flags_an_unknown_placeholder_before_save(
    session: Session, admin_user: Any, config: SmsConfiguration
) -> None:
    session.login("admin")
    session.open("/sms-configuration/email/")
    page = session.page
    subject = page.get_by_label("Subject")
    problem = page.locator("#problem-id_reply_notification_subject")

    subject.fill("Reply from {studnet}")

    expect(problem).to_have_text(
        "Unknown placeholder {studnet}. Available placeholders: {staff_name}, {student_name}, "
        "{reply_text}, {time}, {conversation_link}."
    )
    expect(subject).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []
    session.screenshot("sms-configuration-email-unknown-placeholder")

    subject.fill("Reply from {student_name}")
    expect(problem).to_have_text("")
    expect(subject).not_to_have_attribute("aria-invalid", "true")

    # Saved anyway: the server refuses it and says so once; typing again hands over to the
    # live check.
    subject.fill("Reply from {studnet}")
    page.get_by_role("button", name="Save Email Notifications").click()
    expect(page.locator("#field-reply_notification_subject .errorlist")).to_contain_text(
        "Unknown placeholder {studnet}"
    )
    expect(problem).to_have_text("")
    subject.fill("Reply from {student_name}")
    expect(page.locator("#field-reply_notification_subject .errorlist")).to_have_count(0)
    config.refresh_from_db()
    assert "{studnet}" not in config.reply_notification_subject


@pytest.mark.parametrize(
    "template",
    [
        "Hello {staff_name}",
        "{studnet} wrote",
        "{}",
        "Hi {staff_name:>10}",
        "Hi {staff_name!r}",
        "a } b",
        "a { b",
        "a {",
        "{{literal}} and {time}",
        "{a{b}",
        "{staff_name:{time}}",
        "{studnet} then a stray }",
    ],
)
def test_the_live_check_says_what_save_would_say(
    session: Session, admin_user: Any, config: SmsConfiguration, template: str
) -> None:
    try:
        notifications.template_validate(template)
        expected = ""
    except ValidationError as exc:
        expected = exc.messages[0]
    session.login("admin")
    session.open("/sms-configuration/email/")

    session.page.get_by_label("Body").fill(template)

    expect(session.page.locator("#problem-id_reply_notification_body")).to_have_text(expected)
