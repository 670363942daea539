"""The inbox in Chromium (V3-V5): a reply posted through Twilio's signed webhook appears on an open
inbox, in the navigation's count and on an open person page without a reload, and so does a
status callback; the pages pass axe's WCAG 2.1 AA rules and fit 390 px without sideways
scrolling."""

from __future__ import annotations

import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from playwright.sync_api import expect

from messaging.models import Message
from people import services as people_services
from people.models import Person
from tests import factories
from tests.browser.axe import axe_violations
from tests.browser.conftest import Session
from tests.factories import assignments
from tests.messaging.inbox_support import at, received, sent
from tests.twilio_bridge.webhook_client import (
    FORM,
    INBOUND_PATH,
    STATUS_PATH,
    inbound_params,
    new_sid,
    sign,
    status_params,
)

pytestmark = pytest.mark.browser

# The live updates poll every 2 s; the rule allows 5.
WITHIN_5_S = 5_000
ADVISOR_NUMBER = "+12015550100"
SAM_NUMBER = "+12025550111"


def post_signed(base_url: str, path: str, params: dict[str, str], query: str = "") -> int:
    """POST like Twilio does, over HTTP to the live server, signed over the public URL."""
    full_path = path + (f"?{query}" if query else "")
    request = urllib.request.Request(
        base_url + full_path,
        data=urlencode(params).encode(),
        headers={
            "Content-Type": FORM,
            "X-Twilio-Signature": sign(settings.PUBLIC_BASE_URL + full_path, params),
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


def text_from_sam(base_url: str, body: str) -> None:
    params = inbound_params(
        sid=new_sid(), from_number=SAM_NUMBER, to_number=ADVISOR_NUMBER, body=body
    )
    assert post_signed(base_url, INBOUND_PATH, params) == 200


def assert_accessible(page: Any) -> None:
    assert axe_violations(page) == []


def assert_fits_390(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide at 390 px"


@pytest.fixture
def sam(config: Any, cell: Any, advisor: Person) -> Person:
    """Sam, whom the advisor texted from their number (so Sam's replies are the advisor's)."""
    sam = factories.student(first_name="Sam", last_name="Rivera")
    people_services.phone_create(person=sam, number=SAM_NUMBER, phone_type=cell)
    assignments.assignment(advisor, number=ADVISOR_NUMBER)
    sent(
        advisor,
        sam,
        "Hi Sam, can we meet Tuesday?",
        when=at(240),
        destination=SAM_NUMBER,
        from_number=ADVISOR_NUMBER,
        twilio_sid=new_sid(),
        status="sent",
    )
    return sam


def test_a_reply_appears_on_the_open_inbox_and_in_the_navigation_count(
    session: Session, advisor: Person, sam: Person
) -> None:
    tia = factories.student(first_name="Tia", last_name="Turner")
    received(
        tia,
        advisor,
        "Thanks, see you at the financial aid office on Thursday afternoon!",
        when=at(30),
    )
    session.login("advisor")
    session.open("/inbox/")
    page = session.page
    unread = page.locator('[data-unread="own"]')
    expect(unread).to_have_text("1 unread")
    expect(page.locator("#inbox-list")).not_to_contain_text("Where is room 204?")

    text_from_sam(session.base_url, "Where is room 204?")

    row = page.locator(f"#conversation-{sam.pk}")
    expect(row).to_contain_text("Where is room 204?", timeout=WITHIN_5_S)
    expect(row).to_contain_text("Needs reply")
    expect(row).to_contain_text("1 unread")
    expect(unread).to_have_text("2 unread", timeout=WITHIN_5_S)
    # The newest conversation comes first.
    expect(page.locator(".inbox-row").first).to_have_id(f"conversation-{sam.pk}")
    assert_accessible(page)
    session.screenshot("inbox")

    page.get_by_role("link", name="Needs reply").click()
    expect(page.locator(".inbox-row")).to_have_count(2)
    assert_fits_390(page)
    session.screenshot("inbox-390px")

    page.get_by_role("link", name="Sam Rivera").click()
    expect(page.locator("#conversation")).to_contain_text("Where is room 204?")
    expect(unread).to_have_text("1 unread")


def test_a_reply_and_a_status_change_appear_on_the_open_person_page(
    session: Session, advisor: Person, sam: Person
) -> None:
    session.login("advisor")
    session.open(f"/people/{sam.pk}/")
    page = session.page
    conversation = page.locator("#conversation")
    expect(conversation).to_contain_text("Hi Sam, can we meet Tuesday?")
    text = Message.objects.get(body="Hi Sam, can we meet Tuesday?")
    expect(page.locator(f"#message-{text.pk}")).to_contain_text("sent")

    text_from_sam(session.base_url, "Tuesday at 10 works for me.")
    expect(conversation).to_contain_text("Tuesday at 10 works for me.", timeout=WITHIN_5_S)

    assert text.twilio_sid is not None
    status = post_signed(
        session.base_url,
        STATUS_PATH,
        status_params(text.twilio_sid, "delivered"),
        query=f"token={text.token}",
    )
    assert status in (200, 204)
    expect(page.locator(f"#message-{text.pk}")).to_contain_text("delivered", timeout=WITHIN_5_S)
    # The conversation was open when the reply arrived: it is read, the count stays at none.
    expect(page.locator('[data-unread="own"]')).to_be_hidden()


def test_the_shared_inbox_and_a_read_only_inbox_for_administrators(
    session: Session, advisor: Person, sam: Person
) -> None:
    factories.UserFactory(username="admin", is_staff=True)
    received(sam, advisor, "Can I bring my roommate?", when=at(200))
    lena = factories.student(first_name="Lena", last_name="Cho")
    received(lena, None, "Hello, who is this? I got a text from this number.", when=at(50))
    session.login("admin")
    session.open("/inbox/shared/")
    page = session.page
    expect(page.locator('[data-unread="shared"]')).to_have_text("1 unread")
    expect(page.locator("#inbox-list")).to_contain_text("Lena Cho")
    assert_accessible(page)
    session.screenshot("inbox-shared")

    page.get_by_label("Open the inbox of").select_option(str(advisor.pk))
    page.get_by_role("button", name="Open").click()
    expect(page.locator("#read-only")).to_contain_text("does not mark it read")
    page.get_by_role("link", name="Sam Rivera").click()
    expect(page.locator("#conversation")).to_contain_text("Can I bring my roommate?")
    assert_accessible(page)
    assert_fits_390(page)
    session.screenshot("inbox-conversation-390px")
    assert Message.objects.filter(attributed_to=advisor, read_at__isnull=True).count() == 1
