"""Every aria-describedby on every page names an element that is on the page, once.

Django (5.2) links a field to its help text as `aria-describedby="<id>_helptext"` and to its
errors as `<id>_error`; a template that gives the help paragraph another id leaves the field
described by nothing. Screen readers then never read the help text, and axe does not notice, so
each page is read here through Django's test client, as the people who use it, in its plain
state and with its forms refused.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from messaging.models import MessageTemplate
from people import services as people_services
from people.models import PersonPhone, StatusCause
from tests import factories
from tests.factories import assignments

pytestmark = pytest.mark.django_db


class _Ids(HTMLParser):
    """The ids a page gives its elements, and the ids its aria-describedby attributes name."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.described_by: list[tuple[str, str]] = []  # (element, id it names)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids[values["id"] or ""] += 1
        for named in (values.get("aria-describedby") or "").split():
            self.described_by.append((f"<{tag} id={values.get('id')!r}>", named))


def dangling_descriptions(html: str) -> list[str]:
    """Each aria-describedby id the page lacks or has more than once, with its element."""
    page = _Ids()
    page.feed(html)
    return [
        f"{element} names {named!r}, found {page.ids[named]} time(s)"
        for element, named in page.described_by
        if page.ids[named] != 1
    ]


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def stopped_phone(config: Any, cell: Any) -> PersonPhone:
    """A student's phone whose owner texted STOP: the person page asks an administrator for the
    reason when lifting it."""
    phone = factories.PhoneFactory(person=factories.student(), phone_type=cell)
    people_services.phone_status_set(phone=phone, status="disabled", cause=StatusCause.OPT_OUT)
    return phone


@pytest.fixture
def pages(
    config: Any, admin_user: Any, superuser: Any, advisor: Any, stopped_phone: PersonPhone
) -> dict[str, Any]:
    """The users, and the rows the pages show."""
    template = MessageTemplate.objects.create(name="Welcome", body="Welcome, {first_name}!")
    assignment = assignments.assignment(person=advisor)
    return {
        "admin": admin_user,
        "superuser": superuser,
        "advisor": advisor.user,
        "template": template.pk,
        "person": stopped_phone.person_id,
        "assignment": assignment.pk,
        "staff": advisor.pk,
    }


# (who, url name, url args from the `pages` fixture)
GETS = [
    ("advisor", "home", []),
    ("admin", "sms-config-general", []),
    ("admin", "sms-config-email", []),
    ("admin", "sms-config-twilio", []),
    ("superuser", "sms-config-twilio", []),
    ("admin", "sms-config-history", []),
    ("admin", "message-report", []),
    ("admin", "message-templates", []),
    ("admin", "message-template-edit", ["template"]),
    ("admin", "insight-analytics", []),
    ("admin", "insight-opt-outs", []),
    ("admin", "insight-reclaim", []),
    ("admin", "person-detail", ["person"]),
    ("advisor", "person-detail", ["person"]),
    ("admin", "person-phone-data", []),
    ("admin", "prospect-upload", []),
    ("admin", "sms-assignment-delete-confirm", ["assignment"]),
    ("advisor", "cohort-compose", []),
    ("advisor", "inbox", []),
    ("admin", "inbox-shared", []),
    ("admin", "inbox-staff", ["staff"]),
]


@pytest.mark.parametrize(("who", "name", "args"), GETS, ids=[f"{w}-{n}" for w, n, _ in GETS])
def test_every_description_a_page_names_is_on_it(
    pages: dict[str, Any], who: str, name: str, args: list[str]
) -> None:
    response = login(pages[who]).get(reverse(name, args=[pages[a] for a in args]))
    assert response.status_code == 200
    assert dangling_descriptions(response.content.decode()) == []


# Forms refused: the fields are described by their errors as well as their help.
POSTS: list[tuple[str, str, list[str], dict[str, Any]]] = [
    ("admin", "sms-config-general", [], {"sms_max_length": "0", "quiet_hours_start": "25:00"}),
    ("admin", "sms-config-twilio", [], {"save": "number-reuse", "number_quarantine_days": "-1"}),
    ("admin", "sms-config-twilio", [], {"save": "pacing", "sender_segments_per_second": "x"}),
    ("superuser", "sms-config-twilio", [], {"save": "limits", "sms_message_limit": "-1"}),
    ("admin", "sms-config-twilio", [], {"save": "pool", "number": "abc"}),
    ("admin", "sms-sender-add", [], {"number": "abc"}),
    ("admin", "message-templates", [], {"name": "Oops", "body": "Hi {frist_name}"}),
    ("admin", "message-template-edit", ["template"], {"name": "", "body": ""}),
    ("admin", "prospect-upload", [], {}),
]


@pytest.mark.parametrize(
    ("who", "name", "args", "data"),
    POSTS,
    ids=[f"{w}-{n}-{d.get('save', 'form')}" for w, n, _, d in POSTS],
)
def test_every_description_a_refused_form_names_is_on_the_page(
    pages: dict[str, Any], who: str, name: str, args: list[str], data: dict[str, Any]
) -> None:
    response = login(pages[who]).post(reverse(name, args=[pages[a] for a in args]), data)
    assert response.status_code in (200, 400), response.status_code
    assert dangling_descriptions(response.content.decode()) == []


def test_a_bad_upload_names_its_error(pages: dict[str, Any]) -> None:
    upload = SimpleUploadedFile("people.txt", b"\xff\xfe not a csv", content_type="text/plain")
    response = login(pages["admin"]).post(reverse("prospect-upload"), {"file": upload})
    assert dangling_descriptions(response.content.decode()) == []


def test_filtered_report_and_analytics_name_their_descriptions(pages: dict[str, Any]) -> None:
    client = login(pages["admin"])
    for url in (
        reverse("message-report") + "?sender=nobody&recipient=x&cohort=abc",
        reverse("insight-analytics") + "?month=13-2026",
    ):
        response = client.get(url)
        assert dangling_descriptions(response.content.decode()) == [], url


def test_the_check_finds_a_description_that_is_missing_or_doubled() -> None:
    assert dangling_descriptions('<input aria-describedby="a b"><p id="a"></p>') == [
        "<input id=None> names 'b', found 0 time(s)"
    ]
    assert dangling_descriptions('<input aria-describedby="a"><p id="a"></p><p id="a">') != []
