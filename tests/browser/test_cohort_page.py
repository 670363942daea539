"""The cohort page in Chromium (K2): tick people on the People list, add some by pasted SIS ids
(an unknown one listed back), pick a template, watch the counter measure the longest merged text,
preview, send through the sandbox, and see the progress counts reach sent and then move by
themselves. The pages pass axe's WCAG 2.1 AA rules and fit 390 px without sideways scrolling."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from messaging.models import Channel, Cohort, Message, MessageTemplate, Status
from people.models import Person
from tests import factories
from tests.browser.axe import axe_violations
from tests.browser.conftest import Session
from tests.sending_support import pool_numbers

pytestmark = pytest.mark.browser


def assert_fits_390(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide at 390 px"
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def students(config: Any, cell: Any) -> list[Person]:
    people = []
    for i, (first, last) in enumerate(
        (("Ana", "Lopez"), ("Maximiliana", "Li"), ("Cy", "Oh"), ("Dee", "Park"))
    ):
        person = factories.student(
            first_name=first, last_name=last, src_system_id=f"STU-{i}", email=f"s{i}@example.edu"
        )
        factories.PhoneFactory(person=person, number=f"+1202555011{i}", phone_type=cell)
        people.append(person)
    return people


def test_an_advisor_texts_a_cohort_and_follows_its_progress(
    session: Session, advisor: Person, students: list[Person], sandbox: Any
) -> None:
    pool_numbers(1)
    MessageTemplate.objects.create(name="Advising week", body="Hi {first_name}, advising opens.")
    session.login("advisor")
    page = session.page
    session.open("/?role=student")
    expect(page.locator("#people")).to_contain_text("Lopez")
    page.get_by_label("Choose Ana Lopez").check()
    page.get_by_label("Choose Maximiliana Li").check()
    assert axe_violations(page) == []
    assert_fits_390(page)
    page.get_by_role("button", name="Text these people").click()

    expect(page.locator("#recipient-count")).to_contain_text("2 people chosen")
    page.get_by_label("Add people by SIS ID").fill("STU-2\nNOBODY-7")
    page.get_by_role("button", name="Add these IDs").click()
    expect(page.locator("#recipient-count")).to_contain_text("3 people chosen")
    expect(page.locator("#unknown-sis")).to_contain_text("NOBODY-7")

    # The page's script has wired the picker and the counter.
    expect(page.locator("#cohort-form[data-ready]")).to_have_count(1)
    page.get_by_label("Start from a template").select_option(label="Advising week")
    body = page.get_by_label("Text message")
    expect(body).to_have_value("Hi {first_name}, advising opens.")
    # Measured with the longest first name of the three, Maximiliana: "Hi Maximiliana, ...".
    expect(page.locator("#cohort-counter [data-count=characters]")).to_have_text(
        f"{len('Hi Maximiliana, advising opens.')} / 1000 characters"
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-sms")).to_have_text("3")
    expect(page.locator("#preview-email")).to_have_text("0")
    expect(page.locator("#preview-total-segments")).to_have_text("3")
    expect(page.locator("#preview-cost")).to_have_text("0.02 USD")
    assert not Message.objects.exists()
    assert axe_violations(page) == []
    assert_fits_390(page)
    session.screenshot("cohort-preview")

    page.get_by_role("button", name="Send to 3 people").click()
    cohort = Cohort.objects.get()
    page.wait_for_url(f"**/messages/cohorts/{cohort.pk}/")
    # Tasks run in-process: the sandbox took every text before the page opened.
    expect(page.locator("[data-progress=sent]")).to_have_text("3")
    expect(page.locator("[data-progress=queued]")).to_have_text("0")
    assert sorted(c["form"]["Body"] for c in sandbox.creates()) == [
        "Hi Ana, advising opens.",
        "Hi Cy, advising opens.",
        "Hi Maximiliana, advising opens.",
    ]
    # A delivery report arrives: the page's counts move without a reload.
    first = Message.objects.filter(cohort=cohort, channel=Channel.SMS).order_by("pk").first()
    assert first is not None
    Message.objects.filter(pk=first.pk).update(status=Status.DELIVERED)
    expect(page.locator("[data-progress=delivered]")).to_have_text("1", timeout=15_000)
    expect(page.locator("[data-progress=sent]")).to_have_text("2")
    assert axe_violations(page) == []
    assert_fits_390(page)
    session.screenshot("cohort-progress")


def test_a_paced_cohort_says_when_its_last_text_leaves_until_it_has(
    session: Session, advisor: Person, students: list[Person], sandbox: Any
) -> None:
    import threading

    from messaging import pacing, services
    from sms_admin import services as sms_admin_services

    pool_numbers(1)
    sms_admin_services.configuration_update(actor=None, sender_segments_per_second=1)
    result = services.message_send_bulk(
        sender=advisor, recipient_ids=[s.pk for s in students], body="Hi, advising opens."
    )
    session.login("advisor")
    session.open(f"/messages/cohorts/{result.cohort_id}/")
    page = session.page
    # One text a second from the advisor's number: the first left at once, three wait.
    expect(page.locator("[data-progress=sent]")).to_have_text("1")
    expect(page.locator("[data-progress=queued]")).to_have_text("3")
    expect(page.locator("#progress-pace")).to_contain_text("The last text leaves about")
    expect(page.locator("#cohort-stop")).to_be_visible()
    assert axe_violations(page) == []
    assert_fits_390(page)
    session.screenshot("cohort-progress-paced")

    # The pacer admits the rest, one a second (the development server's loop does this).
    for _ in range(100):
        pacing.messages_pace()
        if not Message.objects.filter(leaves_at__isnull=False).exists():
            break
        threading.Event().wait(0.2)
    expect(page.locator("[data-progress=sent]")).to_have_text("4", timeout=15_000)
    expect(page.locator("#progress-pace")).to_have_text("")
    # Nothing waits any more: nothing to cancel.
    expect(page.locator("#cohort-stop")).to_be_hidden()
    assert len(sandbox.creates()) == 4
