"""Rough edges of the SMS Configuration page in Chromium, each page checked with axe: saving
with no permitted role asks first, the meters' colours, the live preview's unknown placeholder,
the change history in words."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from sms_admin import pool
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
