"""The Message Report in Chromium: filter by failure reason and by a student in From, read the
Destination column, export CSV; a reversed date range is refused next to its field (S7, S9)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from messaging.models import Channel, Direction, FailureReason, Message, Status
from people.models import Person
from tests import factories
from tests.browser.conftest import Session

pytestmark = pytest.mark.browser


def add(when: datetime, **fields: Any) -> Message:
    fields.setdefault("direction", Direction.OUTBOUND)
    fields.setdefault("channel", Channel.SMS)
    message = Message.objects.create(**fields)
    Message.objects.filter(pk=message.pk).update(created_at=when)
    return message


def failed_with_fallback(
    when: datetime, sender: Person, to: Person, number: str, reason: str, code: int
) -> None:
    text = add(
        when,
        sender=sender,
        recipient=to,
        destination=number,
        from_number="+12015550100",
        body="Your advising hold is lifted.",
        status=Status.FAILED,
        failure_reason=reason,
        error_code=code,
        segments=1,
    )
    add(
        when.replace(second=5),
        sender=sender,
        recipient=to,
        channel=Channel.EMAIL,
        destination=to.email,
        body="Your advising hold is lifted.",
        status=Status.SENT,
        replaces=text,
    )


@pytest.fixture
def messages(config: Any) -> None:
    alex = factories.staff(first_name="Alex", last_name="Advisor", email="alex@example.edu")
    sam = factories.student(first_name="Sam", last_name="Rivera", email="sam@example.edu")
    tia = factories.student(first_name="Tia", last_name="Turner", email="tia@example.edu")
    ben = factories.student(first_name="Ben", last_name="Ode", email="ben@example.edu")
    jo = factories.student(first_name="Jo", last_name="Park", email="jo@example.edu")
    # Before 2021-10-01 a student could hold a system number and text from it (S9).
    add(
        datetime(2021, 8, 14, 15, 0, tzinfo=UTC),
        sender=jo,
        recipient=sam,
        destination="+12025550133",
        from_number="+12015550177",
        body="Study group at 6?",
        status=Status.DELIVERED,
        segments=1,
    )
    add(
        datetime(2024, 3, 4, 14, 0, tzinfo=UTC),
        sender=alex,
        recipient=sam,
        destination="+12025550111",
        from_number="+12015550100",
        body="Hi Sam, can we meet Tuesday?",
        status=Status.DELIVERED,
        segments=1,
    )
    add(
        datetime(2024, 3, 4, 14, 20, tzinfo=UTC),
        direction=Direction.INBOUND,
        sender=sam,
        recipient=alex,
        destination="+12015550100",
        from_number="+12025550111",
        body="Yes, 10am works.",
        status=Status.RECEIVED,
        segments=1,
    )
    failed_with_fallback(
        datetime(2024, 3, 5, 16, 0, tzinfo=UTC),
        alex,
        tia,
        "+12025550122",
        FailureReason.TWILIO_LANDLINE,
        30006,
    )
    failed_with_fallback(
        datetime(2024, 3, 6, 13, 0, tzinfo=UTC),
        alex,
        ben,
        "+12025550144",
        FailureReason.TWILIO_INVALID_NUMBER,
        21211,
    )


def test_an_administrator_filters_the_report_reads_destinations_and_exports_csv(
    session: Session, admin_user: Any, messages: None, tmp_path: Any
) -> None:
    session.login("admin")
    page = session.page
    page.get_by_role("link", name="Message Report").click()
    table = page.locator("#message-report")
    expect(page.locator("#report-count")).to_have_text("7 messages")
    session.screenshot("message-report")

    page.get_by_label("Failure reason").select_option(label="Invalid phone number")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#report-count")).to_have_text("1 message")
    reason = table.locator(".reason")
    expect(reason).to_have_text("Invalid phone number")
    expect(reason).to_have_attribute("title", "TWILIO_INVALID_NUMBER")
    expect(table.locator("tbody tr")).to_contain_text("21211")
    expect(table.locator("td.destination")).to_have_text("+12025550144")

    # The seed's check: the students in From, then the numbers in the Destination column.
    page.get_by_role("link", name="Clear").click()
    page.get_by_label("From", exact=True).fill("Jo Park")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#report-count")).to_have_text("1 message")
    expect(table.locator("td.destination")).to_have_text("+12025550133")
    expect(table.locator("tbody tr")).to_contain_text("2021-08-14")
    expect(table.locator("tbody tr")).to_contain_text("+12015550177")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    assert target.name.startswith("message-report-") and target.suffix == ".csv"
    with target.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(r["from"], r["destination"], r["body"]) for r in rows] == [
        # A leading + would make a spreadsheet compute the number: it is quoted.
        ("Jo Park", "'+12025550133", "Study group at 6?")
    ]


def test_a_reversed_date_range_is_explained_next_to_the_field(
    session: Session, admin_user: Any, messages: None
) -> None:
    session.login("admin")
    response = session.open("/messages/report/?created_after=2024-03-06&created_before=2024-03-01")
    assert response.status == 400
    page = session.page
    expect(page.locator("#field-created_before .errorlist")).to_have_text(
        "The end of the date range is before its start."
    )
    expect(page.get_by_role("link", name="Export CSV")).to_have_count(0)
    expect(page.locator("#message-report")).to_have_count(0)
