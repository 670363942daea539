"""Rough edges of administrators' data pages in Chromium: the Message Report fits a 1,400 px
window, the Person Phone data view says "not applicable" for system numbers, the person page's
Verified column gives the date; each page checked with axe."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from messaging.models import Channel, Direction, FailureReason, Message, Status
from tests import factories
from tests.browser.axe import axe_violations
from tests.browser.conftest import Session
from tests.factories import assignments

pytestmark = pytest.mark.browser


def add(when: datetime, **fields: Any) -> Message:
    fields.setdefault("direction", Direction.OUTBOUND)
    message = Message.objects.create(**fields)
    Message.objects.filter(pk=message.pk).update(created_at=when)
    return message


@pytest.fixture
def wide_report(config: Any) -> None:
    """The widest rows the report shows: long names, an email fallback to a long address, the
    longest failure reason, a retry, a five-digit error code."""
    alex = factories.staff(
        first_name="Alexandria-Maximiliane", last_name="Vandenberghe-Oyelaran", email="a@x.edu"
    )
    sam = factories.student(
        first_name="Bartholomew-Christopher",
        last_name="Montgomery-Featherstonehaugh",
        email="bartholomew.christopher.montgomery-featherstonehaugh@students.example.edu",
    )
    for day in range(1, 4):
        text = add(
            datetime(2026, 9, day, 14, 0, tzinfo=UTC),
            sender=alex,
            recipient=sam,
            channel=Channel.SMS,
            destination="+12025550111",
            from_number="+12015550100",
            body="Your advising hold is lifted.",
            status=Status.FAILED,
            failure_reason=FailureReason.NEEDS_REVIEW,
            error_code=30034,
            segments=3,
        )
        add(
            datetime(2026, 9, day, 14, 1, tzinfo=UTC),
            sender=alex,
            recipient=sam,
            channel=Channel.EMAIL,
            destination=sam.email,
            body="Your advising hold is lifted.",
            status=Status.DELIVERED,
            failure_reason=FailureReason.RETRIES_EXHAUSTED,
            replaces=text,
        )


def test_the_message_report_fits_a_1400_px_window_with_its_last_column(
    session: Session, admin_user: Any, wide_report: None
) -> None:
    session.page.set_viewport_size({"width": 1400, "height": 900})
    session.login("admin")
    session.open("/messages/report/")
    page = session.page
    expect(page.locator("#report-count")).to_have_text("6 messages")

    scroller = page.locator(".table-scroll")
    overflow = scroller.evaluate("e => e.scrollWidth - e.clientWidth")
    assert overflow <= 0, f"the table is {overflow} px wider than its container"
    last = page.get_by_role("columnheader", name="Segments").bounding_box()
    box = scroller.bounding_box()
    assert last is not None and box is not None
    assert last["x"] + last["width"] <= box["x"] + box["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    assert axe_violations(page) == []
    session.screenshot("message-report-1400")


def test_the_phone_data_view_says_not_applicable_for_system_numbers(
    session: Session, admin_user: Any, config: Any
) -> None:
    held = assignments.assignment(factories.staff(first_name="Alex", last_name="Advisor"))
    factories.PhoneFactory(
        person=factories.student(first_name="Ana", last_name="Student"), sms_status="enabled"
    )
    session.login("admin")
    session.open("/data/person-phones/")
    page = session.page

    row = page.locator("#phone-data tbody tr", has_text=held.phone.number)
    expect(row.locator("td").nth(6)).to_have_text("not applicable")
    expect(
        page.locator("#phone-data tbody tr", has_text="Ana Student").locator("td").nth(6)
    ).to_have_text("SMS Enabled")
    assert axe_violations(page) == []
    session.screenshot("person-phone-data-system-numbers")


def test_the_person_pages_verified_column_shows_the_date(
    session: Session, admin_user: Any, config: Any
) -> None:
    person = factories.student(first_name="Sam", last_name="Rivera")
    factories.PhoneFactory(
        person=person,
        number="+12025550903",
        verified_at=datetime(2026, 3, 14, 15, 0, tzinfo=UTC),
        verified_by=admin_user,
    )
    session.login("admin")
    session.open(f"/people/{person.pk}/")
    page = session.page

    cell = page.locator("#phones tbody tr", has_text="+12025550903").locator("td.verified")
    expect(cell).to_have_text("✓ 2026-03-14 by admin")
    assert axe_violations(page) == []
