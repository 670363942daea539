"""Analytics and reports in Chromium: the analytics page draws its 12-month chart with a text
alternative and exports CSV, the opt-out report filters and exports CSV, the reclaim report
releases a number through the grid's confirmation, and the Phone Number Usage grid shows only
numbers held by students; each page passes axe's WCAG 2 A/AA checks."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from playwright.sync_api import expect

from messaging.models import Channel, Direction, Message, Status
from people import services as people_services
from people.models import Person, PersonPhone, SmsStatus, StatusCause
from sms_admin.models import SenderAssignment
from tests import factories
from tests.browser.axe import axe_violations
from tests.browser.conftest import Session
from tests.factories import assignments

pytestmark = pytest.mark.browser

# 2026-03-20 12:00 in New York.
NOW = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(settings: Any) -> Any:
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(NOW, tick=True):
        yield


def add(when: datetime, **fields: Any) -> Message:
    fields.setdefault("direction", Direction.OUTBOUND)
    fields.setdefault("channel", Channel.SMS)
    fields.setdefault("body", "Hello")
    message = Message.objects.create(**fields)
    Message.objects.filter(pk=message.pk).update(created_at=when)
    return message


@pytest.fixture
def year_of_texts(config: Any) -> dict[str, Person]:
    alex = factories.staff(first_name="Alex", last_name="Advisor")
    casey = factories.staff(first_name="Casey", last_name="Coach")
    students = [factories.student() for _ in range(6)]
    outcomes = [Status.DELIVERED] * 6 + [Status.FAILED, Status.UNDELIVERED, Status.SENT]
    for back in range(12):
        when = datetime(2026, 3, 10, 15, 0, tzinfo=UTC) - timedelta(days=30 * back)
        for index in range(3 + (back * 7) % 9):
            staff = alex if index % 3 else casey
            student = students[index % len(students)]
            add(when, sender=staff, recipient=student, status=outcomes[index % len(outcomes)])
        add(when, sender=alex, recipient=students[0], channel=Channel.EMAIL, status=Status.SENT)
        add(
            when,
            direction=Direction.INBOUND,
            sender=students[1],
            recipient=alex,
            status=Status.RECEIVED,
            is_reply=True,
        )
    add(
        datetime(2026, 3, 11, 15, 0, tzinfo=UTC),
        direction=Direction.INBOUND,
        sender=students[2],
        recipient=casey,
        status=Status.RECEIVED,
        body="STOP",
        keyword="stop",
    )
    return {"alex": alex, "casey": casey}


def test_the_analytics_page_draws_the_chart_with_a_text_alternative_and_exports_csv(
    session: Session, admin_user: Any, year_of_texts: dict[str, Person], tmp_path: Any
) -> None:
    session.login("admin")
    page = session.page
    page.get_by_role("link", name="Analytics and reports").click()
    expect(page.get_by_role("heading", name="March 2026, per staff member")).to_be_visible()

    chart = page.get_by_role("img", name="What staff sent per month, April 2025 to March 2026")
    expect(chart).to_be_visible()
    # Twelve bars, drawn: every month has texts.
    assert page.locator("#trend-chart g.bar").count() == 12
    assert page.locator("#trend-chart rect").count() >= 12
    box = page.locator("#trend-chart rect").first.bounding_box()
    assert box is not None and box["height"] > 0 and box["width"] > 0
    description = page.locator("#trend-chart-desc").text_content() or ""
    assert description.startswith("From April 2025 to March 2026 staff sent ")
    assert chart.get_attribute("aria-describedby") == "trend-chart-desc"
    table = page.get_by_role("table", name="The chart's figures, month by month")
    expect(table.locator("tbody tr")).to_have_count(12)
    staff = page.locator("#analytics-staff")
    expect(staff.locator("tbody tr")).to_have_count(2)
    expect(staff.locator("tbody tr").first).to_contain_text("Alex Advisor")
    expect(staff.locator("tfoot")).to_contain_text("All staff")
    assert axe_violations(page) == []
    session.screenshot("analytics")

    page.get_by_label("Month", exact=True).fill("2026-02")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="February 2026, per staff member")).to_be_visible()
    expect(page.get_by_role("link", name="March 2026 →")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    assert target.name == "analytics-2026-02.csv"
    with target.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert {r["staff"] for r in rows} == {"Alex Advisor", "Casey Coach"}
    assert all(r["month"] == "2026-02" for r in rows)


def test_a_future_month_is_refused_next_to_the_field(
    session: Session, admin_user: Any, year_of_texts: dict[str, Person]
) -> None:
    session.login("admin")
    response = session.open("/analytics/?month=2026-04")

    assert response.status == 400
    page = session.page
    expect(page.locator("#field-month .errorlist")).to_contain_text("is in the future")
    expect(page.locator("#trend-chart")).to_have_count(0)
    assert axe_violations(page) == []


def _change(phone: PersonPhone, status: str, cause: str, when: datetime, **fields: Any) -> None:
    with time_machine.travel(when, tick=False):
        people_services.phone_status_set(phone=phone, status=status, cause=cause, **fields)


def test_the_opt_out_report_lists_causes_filters_by_date_and_exports_csv(
    session: Session, admin_user: Any, config: Any, cell: Any, tmp_path: Any
) -> None:
    dana = factories.UserFactory(username="dana", is_staff=True)
    factories.staff(first_name="Dana", last_name="Dean", user=dana)
    sam = factories.PhoneFactory(
        person=factories.student(first_name="Sam", last_name="Rivera"),
        number="+12025550111",
        phone_type=cell,
    )
    tia = factories.PhoneFactory(
        person=factories.student(first_name="Tia", last_name="Turner"),
        number="+12025550122",
        phone_type=cell,
    )
    _change(sam, SmsStatus.DISABLED, StatusCause.OPT_OUT, datetime(2026, 3, 2, 15, tzinfo=UTC))
    _change(
        tia,
        SmsStatus.DISABLED,
        StatusCause.ERROR_CODE,
        datetime(2026, 3, 5, 15, tzinfo=UTC),
        error_code=21610,
    )
    _change(
        tia,
        SmsStatus.ENABLED,
        StatusCause.MANUAL,
        datetime(2026, 3, 9, 15, tzinfo=UTC),
        actor=dana,
        reason="Asked at the front desk",
    )
    session.login("admin")
    page = session.page
    page.get_by_role("link", name="Analytics and reports").click()
    page.get_by_role("link", name="Opt-out report").click()
    table = page.locator("#opt-out-report")
    expect(page.locator("#opt-out-count")).to_have_text("3 changes")
    expect(table.locator("tbody tr").nth(0)).to_contain_text("By hand, by Dana Dean")
    expect(table.locator("tbody tr").nth(0)).to_contain_text("Reason: Asked at the front desk")
    expect(table.locator("tbody tr").nth(1)).to_contain_text(
        "Twilio error code 21610: Recipient unsubscribed (STOP)"
    )
    expect(table.locator("tbody tr").nth(2)).to_contain_text(
        "The person texted an opt-out keyword (STOP)"
    )
    assert axe_violations(page) == []
    session.screenshot("opt-out-report")

    page.get_by_label("From date").fill("2026-03-03")
    page.get_by_label("To date").fill("2026-03-06")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#opt-out-count")).to_have_text("1 change")
    expect(table.locator("tbody tr")).to_contain_text("Tia Turner")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    with target.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(r["person"], r["phone"], r["change"], r["error_code"]) for r in rows] == [
        ("Tia Turner", "'+12025550122", "disabled", "21610")
    ]


def test_the_reclaim_report_releases_a_number_after_the_confirmation(
    session: Session, admin_user: Any, config: Any
) -> None:
    with time_machine.travel(NOW - timedelta(days=200), tick=False):
        student = assignments.assignment(
            factories.student(first_name="Jo", last_name="Park"), number="+12015550177"
        )
        idle = assignments.assignment(
            factories.staff(first_name="Ira", last_name="Idle", user=factories.UserFactory()),
            number="+12015550178",
        )
    session.login("admin")
    page = session.page
    page.get_by_role("link", name="Analytics and reports").click()
    page.get_by_role("link", name="Numbers to reclaim").click()
    table = page.locator("#reclaim-report")
    expect(table.locator("tbody tr")).to_have_count(2)
    jo_row = table.locator("tbody tr", has_text="Jo Park")
    expect(jo_row).to_contain_text("Is a student (students may not hold a number)")
    expect(table.locator("tbody tr", has_text="Ira Idle")).to_contain_text(
        "Has sent nothing since the number was assigned (90 days or more)"
    )
    assert axe_violations(page) == []
    session.screenshot("reclaim-report")

    jo_row.get_by_role("link", name="Release +12015550177 from Jo Park").click()
    # The delete confirmation says what the release means before anything changes.
    expect(page.get_by_role("heading", level=1)).to_contain_text("+12015550177")
    assert SenderAssignment.objects.get(pk=student.pk).released_at is None
    page.get_by_role("button", name="Delete the assignment").click()
    expect(page.locator(".flash")).to_contain_text("+12015550177 is no longer assigned to Jo Park")
    expect(table.locator("tbody tr")).to_have_count(1)
    assert SenderAssignment.objects.get(pk=student.pk).released_at is not None
    assert SenderAssignment.objects.get(pk=idle.pk).released_at is None


def test_the_phone_number_usage_grid_shows_only_numbers_held_by_students(
    session: Session, admin_user: Any, config: Any
) -> None:
    assignments.assignment(factories.student(first_name="Jo", last_name="Park"))
    assignments.assignment(factories.staff(first_name="Alex", last_name="Advisor"))
    session.login("admin")
    page = session.page
    session.open("/sms-configuration/twilio/")
    grid = page.locator("#usage-grid")
    expect(grid.locator("tbody tr")).to_have_count(2)
    expect(grid.locator(".held-by-student")).to_have_count(1)
    expect(grid.locator("tbody tr", has_text="Jo Park")).to_contain_text("Student")

    page.get_by_label("Only numbers held by students").check()
    page.get_by_role("button", name="Search").click()
    expect(grid.locator("tbody tr")).to_have_count(1)
    expect(grid.locator("tbody tr")).to_contain_text("Jo Park")
    assert axe_violations(page, "#usage") == []
