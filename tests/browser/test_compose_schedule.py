"""Templates and "Send at" in Chromium on a fixed clock (K2, K4, K5, K6): on the person page an
advisor starts from a template (the counter measures the text as the person gets it), chooses a
date and time in the institution's time zone, schedules the text, sees "Scheduled for ..." and
the text waiting in the conversation with its Cancel button; a time in the past is refused next
to the field; the quiet-hours note about sending now steps aside once a time is chosen. On the
cohort page the same field schedules a cohort, the preview says when it would go, and the
progress page counts the scheduled texts and cancels them. Every state passes axe's WCAG 2.1 AA
rules; the screenshots show the same dates on every run."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest
from playwright.sync_api import expect

from messaging.models import Cohort, Message, MessageTemplate, Status
from people.models import Person
from sms_admin import services as sms_admin_services
from tests import factories
from tests.browser.axe import axe_violations
from tests.browser.conftest import NY, Session
from tests.factories import assignments

pytestmark = pytest.mark.browser


# The shared fixed clock (tests/browser/conftest.py) puts every test at Tuesday 2026-12-01,
# 15:00 in New York.
@pytest.fixture
def student(config: Any, cell: Any, advisor: Person) -> Person:
    person = factories.student(
        first_name="Sam", last_name="Rivera", src_system_id="STU-0042", email="sam@example.edu"
    )
    factories.PhoneFactory(person=person, number="+12025550111", phone_type=cell)
    assignments.assignment(advisor, number="+12015550100")
    MessageTemplate.objects.create(name="Advising week", body="Hi {first_name}, advising opens.")
    return person


def test_an_advisor_starts_from_a_template_and_schedules_a_text(
    session: Session, advisor: Person, student: Person, sandbox: Any
) -> None:
    session.login("advisor")
    session.open(f"/people/{student.pk}/")
    page = session.page
    expect(page.get_by_label("Send at")).to_have_attribute("type", "datetime-local")
    expect(page.locator("#id_send_at-zone")).to_have_text("America/New_York time")

    page.get_by_label("Start from a template").select_option(label="Advising week")
    expect(page.get_by_label("Text message")).to_have_value("Hi {first_name}, advising opens.")
    # Counted as Sam gets it: "Hi Sam, advising opens."
    expect(page.locator("[data-count=characters]")).to_have_text(
        f"{len('Hi Sam, advising opens.')} / 1000 characters"
    )
    page.get_by_label("Send at").fill("2026-12-03T09:30")
    send = page.locator("#compose button[type=submit]")
    expect(send).to_have_text("Schedule")
    assert axe_violations(page) == []
    page.evaluate("document.activeElement.blur()")
    session.screenshot("person-page-schedule")

    send.click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Scheduled for 2026-12-03 09:30 (America/New_York time)."
    )
    # Information, not a success: nothing has been sent.
    expect(page.locator(".flash-info")).to_contain_text("Scheduled for")
    expect(page.locator(".flash-success")).to_have_count(0)
    text = Message.objects.get(body="Hi Sam, advising opens.")
    assert (text.status, text.send_at) == (
        Status.SCHEDULED,
        datetime(2026, 12, 3, 9, 30, tzinfo=NY),
    )
    item = page.locator(f"#message-{text.pk}")
    expect(item).to_contain_text("will go at 2026-12-03 09:30")
    cancel = item.get_by_role("button", name="Cancel the text scheduled for 2026-12-03 09:30")
    expect(cancel).to_be_visible()
    assert sandbox.creates() == []
    assert axe_violations(page) == []
    session.screenshot("person-page-scheduled")

    cancel.click()
    expect(page.get_by_role("status").first).to_contain_text("Cancelled")
    text.refresh_from_db()
    assert text.status == Status.CANCELED


def test_a_time_in_the_past_is_refused_next_to_the_field_and_nothing_is_recorded(
    session: Session, advisor: Person, student: Person
) -> None:
    session.login("advisor")
    session.open(f"/people/{student.pk}/")
    page = session.page
    page.get_by_label("Text message").fill("Hello Sam")
    page.get_by_label("Send at").fill("2026-12-01T09:00")
    page.get_by_role("button", name="Schedule").click()

    expect(page.locator("#id_send_at-error")).to_contain_text(
        "Send at: 2026-12-01 09:00 is in the past or less than a minute from now"
    )
    expect(page.get_by_label("Send at")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Text message")).to_have_value("Hello Sam")
    assert not Message.objects.exists()
    assert axe_violations(page) == []


def test_the_quiet_hours_note_about_sending_now_steps_aside_for_a_chosen_time(
    session: Session, advisor: Person, student: Person
) -> None:
    sms_admin_services.configuration_update(
        actor=None, quiet_hours_start=time(14, 0), quiet_hours_end=time(16, 0)
    )
    session.login("advisor")
    session.open(f"/people/{student.pk}/")
    page = session.page
    note = page.locator("#quiet-hours")
    expect(note).to_contain_text("a text you send now will go at 16:00")
    expect(page.locator("#id_send_at-help")).to_contain_text(
        "a time inside quiet hours (14:00-16:00) waits until they end"
    )

    page.get_by_label("Send at").fill("2026-12-02T14:30")
    expect(note).to_be_hidden()
    page.get_by_label("Send at").fill("")
    expect(note).to_be_visible()
    page.get_by_label("Send at").fill("2026-12-02T14:30")
    page.get_by_label("Text message").fill("Hello Sam")
    page.get_by_role("button", name="Schedule").click()

    expect(page.get_by_role("status").first).to_contain_text(
        "Scheduled for 2026-12-02 16:00 (America/New_York time): 14:30 is inside quiet hours"
    )
    assert Message.objects.get().send_at == datetime(2026, 12, 2, 16, 0, tzinfo=NY)


def test_an_advisor_schedules_a_cohort_and_cancels_it_from_its_progress_page(
    session: Session, advisor: Person, student: Person, cell: Any, sandbox: Any
) -> None:
    other = factories.student(first_name="Maximiliana", last_name="Li", src_system_id="STU-0043")
    factories.PhoneFactory(person=other, number="+12025550112", phone_type=cell)
    session.login("advisor")
    page = session.page
    session.open("/?role=student")
    page.get_by_label("Choose Sam Rivera").check()
    page.get_by_label("Choose Maximiliana Li").check()
    page.get_by_role("button", name="Text these people").click()

    expect(page.locator("#cohort-form[data-ready]")).to_have_count(1)
    page.get_by_label("Start from a template").select_option(label="Advising week")
    expect(page.locator("#cohort-counter [data-count=characters]")).to_have_text(
        f"{len('Hi Maximiliana, advising opens.')} / 1000 characters"
    )
    expect(page.locator("#id_send_at-zone")).to_have_text("America/New_York time")
    page.get_by_label("Send at").fill("2026-12-03T09:30")
    expect(page.locator("#send-button")).to_have_text("Schedule for 2 people")
    page.get_by_role("button", name="Preview").click()

    expect(page.locator("#preview-title")).to_have_text(
        "Preview: what sending at 2026-12-03 09:30 would do"
    )
    expect(page.locator("#preview-when")).to_contain_text(
        "The texts would wait until 2026-12-03 09:30 (America/New_York time)."
    )
    expect(page.locator("#preview-sms")).to_have_text("2")
    expect(page.get_by_label("Send at")).to_have_value("2026-12-03T09:30")
    expect(page.locator("#send-button")).to_have_text("Schedule for 2 people")
    assert not Message.objects.exists()
    assert axe_violations(page) == []
    session.screenshot("cohort-schedule-preview")

    page.get_by_role("button", name="Schedule for 2 people").click()
    cohort = Cohort.objects.get()
    page.wait_for_url(f"**/messages/cohorts/{cohort.pk}/")
    expect(page.get_by_role("status").first).to_contain_text(
        "Scheduled for 2026-12-03 09:30 (America/New_York time)."
    )
    expect(page.locator("#scheduled")).to_contain_text("2 texts are scheduled")
    expect(page.locator("#scheduled")).to_contain_text("2026-12-03 09:30 (America/New_York time)")
    assert set(Message.objects.values_list("status", flat=True)) == {Status.SCHEDULED}
    assert sandbox.creates() == []
    assert axe_violations(page) == []
    session.screenshot("cohort-scheduled-progress")

    page.get_by_role("button", name="Cancel the scheduled texts").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Cancelled: 2 texts that had not left yet will not be sent."
    )
    expect(page.locator("[data-progress=canceled]")).to_have_text("2")
    expect(page.locator("#cohort-cancel")).to_have_count(0)
    assert set(Message.objects.values_list("status", flat=True)) == {Status.CANCELED}
