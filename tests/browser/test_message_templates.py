"""The administrators' template page in Chromium: add a template, see a refusal at its field,
change it; the page passes axe's WCAG 2.1 AA checks."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from messaging.models import MessageTemplate
from tests.browser.axe import axe_violations
from tests.browser.conftest import Session

pytestmark = pytest.mark.browser


def test_an_administrator_adds_and_changes_a_template(
    session: Session, admin_user: Any, config: Any
) -> None:
    session.login("admin")
    session.open("/messages/templates/")
    page = session.page

    page.get_by_label("Name").fill("Registration")
    page.get_by_label("Text").fill("Hi {firstname}")
    page.get_by_role("button", name="Add template").click()
    expect(page.locator("#field-body .errorlist")).to_contain_text(
        "Unknown placeholder {firstname}"
    )
    page.get_by_label("Text").fill("Hi {first_name}, registration opens Monday.")
    page.get_by_role("button", name="Add template").click()
    expect(page.locator("#templates")).to_contain_text(
        "Hi {first_name}, registration opens Monday."
    )
    assert axe_violations(page) == []
    session.screenshot("message-templates")

    page.get_by_role("link", name="Change Registration").click()
    page.get_by_label("Text").fill("Registration opens Tuesday.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#templates")).to_contain_text("Registration opens Tuesday.")
    assert MessageTemplate.objects.get().body == "Registration opens Tuesday."
