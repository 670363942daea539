"""No internal rule id (R2, C1, T4, S9, ...) reaches a person: the pages staff and administrators
read, the Django admin, the API documentation's descriptions and the management commands' help
say it in plain words. (Code, comments, commit messages and docs/RULES.md keep the ids.)"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.management import get_commands, load_command_class
from django.test import Client
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from messaging.models import Channel, Cohort, Direction, Message, Status
from people import services as people_services
from people.models import Person
from sms_admin import services as sms_admin_services
from sms_admin.models import DefaultStatus
from tests import factories
from tests.factories import assignments
from tests.sending_support import pool_numbers

RULE_ID = re.compile(r"\b[CPRSTVQKA]\d{1,2}\b")

# Tokens of the rule-id shape that are genuine words, not rule ids, each with its reason. Empty:
# nothing shown today needs one. Add a word only when it is not a rule id (e.g. a paper size).
ALLOWED: dict[str, str] = {}

# Attributes whose values a person reads or hears (tooltips, screen readers, button captions).
_SHOWN_ATTRIBUTES = {"title", "aria-label", "alt", "placeholder"}


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        values = dict(attrs)
        for name, value in attrs:
            if value and name in _SHOWN_ATTRIBUTES:
                self.parts.append(value)
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def rule_ids(text: str) -> list[str]:
    return [token for token in RULE_ID.findall(text) if token not in ALLOWED]


def test_the_visible_text_reader_finds_a_rule_id_in_text_and_tooltips_not_in_scripts() -> None:
    html = (
        '<p>Text to +12025550111 (R2)</p><span title="see C1">x</span>'
        '<script>var R7 = 1;</script><input type="submit" value="Delete (S9)">'
    )
    assert rule_ids(visible_text(html)) == ["R2", "C1", "S9"]


@pytest.fixture
def world(config: Any, cell: Any, advisor: Person, superuser: Any) -> dict[str, Any]:
    """Every branch the pages show: phones of each status (the route explanation with its
    passed-over phones), a success team with a system number, a conversation with an email
    fallback and a failure reason, a configuration change in the history, a student holding a
    number (the admin's filter)."""
    sms_admin_services.configuration_update(
        actor=superuser, student_sms_default=DefaultStatus.OPTED_OUT
    )
    student = factories.student(first_name="Sam", email="sam@example.edu")
    people_services.phone_create(
        person=student, number="+12025550111", phone_type=cell, verified_by=advisor.user
    )
    factories.PhoneFactory(person=student, number="+12025550122", sms_status="disabled")
    factories.PhoneFactory(person=student, number="+12025550133", sms_status="enabled")
    factories.PhoneFactory(person=student, number="+12025550144", sms_status="enabled")
    held = assignments.assignment(advisor)
    assignments.assignment(factories.student())
    pool_numbers(1)
    text = Message.objects.create(
        direction=Direction.OUTBOUND,
        sender=advisor,
        recipient=student,
        channel=Channel.SMS,
        destination="+12025550133",
        body="Are you coming?",
        status=Status.FAILED,
        failure_reason="TWILIO_RECIPIENT_UNSUBSCRIBED",
    )
    Message.objects.create(
        direction=Direction.OUTBOUND,
        sender=advisor,
        recipient=student,
        channel=Channel.EMAIL,
        destination="sam@example.edu",
        body="Are you coming?",
        status=Status.SENT,
        replaces=text,
        failure_reason="TWILIO_RECIPIENT_UNSUBSCRIBED",
    )
    nowhere = factories.student(email="")
    advisor.user.is_staff = True  # the administrators' pages too, as the same person
    advisor.user.is_superuser = True
    advisor.user.save()
    cohort = Cohort.objects.create(sender=advisor, body="Are you coming?", count=1)
    Message.objects.filter(pk=text.pk).update(cohort=cohort)
    return {
        "student": student,
        "nowhere": nowhere,
        "advisor": advisor,
        "held": held,
        "cohort": cohort,
    }


def pages(world: dict[str, Any]) -> list[str]:
    student, nowhere, advisor = world["student"], world["nowhere"], world["advisor"]
    return [
        reverse("inbox"),
        reverse("inbox-shared"),
        reverse("inbox-staff", args=[advisor.pk]),
        reverse("inbox-staff-conversation", args=[advisor.pk, student.pk]),
        reverse("message-templates"),
        reverse("insight-analytics"),
        reverse("insight-opt-outs"),
        reverse("insight-reclaim"),
        reverse("sms-assignment-delete-confirm", args=[world["held"].pk]),
        reverse("home"),
        reverse("cohort-compose") + f"?person={student.pk}&person={nowhere.pk}",
        reverse("cohort-progress", args=[world["cohort"].pk]),
        reverse("person-detail", args=[student.pk]),
        reverse("person-detail", args=[nowhere.pk]),
        reverse("person-detail", args=[advisor.pk]),
        reverse("sms-config-general"),
        reverse("sms-config-email"),
        reverse("sms-config-twilio"),
        reverse("sms-config-history"),
        reverse("message-report"),
        reverse("person-phone-data"),
        reverse("prospect-upload"),
        "/admin/",
        f"/admin/people/person/{student.pk}/change/",
        f"/admin/people/person/{nowhere.pk}/change/",
        "/admin/sms_admin/senderassignment/",
        "/admin/sms_admin/senderassignment/?held_by_student=yes",
        "/admin/sms_admin/sendernumber/",
        "/admin/sms_admin/configurationchange/",
        "/admin/sms_admin/monthlyusage/",
        "/admin/sms_admin/errorcodepolicy/",
        "/admin/people/personphone/",
        "/admin/people/phonestatuschange/",
        "/admin/messaging/message/",
        "/admin/messaging/sendrequest/",
    ]


def test_no_page_a_person_reads_shows_a_rule_id(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["advisor"].user)
    found: dict[str, list[str]] = {}
    for path in pages(world):
        response = client.get(path)
        assert response.status_code == 200, path
        ids = rule_ids(visible_text(response.content.decode()))
        if ids:
            found[path] = ids
    assert found == {}


def test_the_cohort_preview_gives_its_reasons_without_a_rule_id(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["advisor"].user)
    response = client.post(
        reverse("cohort-compose"),
        {
            "person": [world["student"].pk, world["nowhere"].pk],
            "sis_ids": "NOBODY-1",
            "body": "Hi {first_name}",
            "action": "preview",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and 'id="preview"' in page
    assert rule_ids(visible_text(page)) == []
    assert "NO_SMS_PHONE" not in page and "NO_EMAIL" not in page


def test_a_send_that_goes_by_email_is_announced_without_a_rule_id(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(world["advisor"].user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("person-send", args=[world["nowhere"].pk]), {"body": "Hi"}, follow=True
        )
    assert "Nothing was delivered" in response.content.decode()
    assert rule_ids(visible_text(response.content.decode())) == []


def _descriptions(node: Any, path: str = "") -> list[tuple[str, str]]:
    """(where, text) of every description, summary and title in an OpenAPI document."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary", "title") and isinstance(value, str):
                found.append((f"{path}/{key}", value))
            else:
                found += _descriptions(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _descriptions(value, f"{path}/{i}")
    return found


def test_the_api_documentation_describes_everything_without_rule_ids(db: Any) -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    # The route's `rule` field keeps rule ids as its values (integrations rely on them); the
    # schema lists those values, each explained in words. Nothing else may show an id.
    values = set(schema["components"]["schemas"]["RuleEnum"]["enum"])
    found = {}
    for where, text in _descriptions(schema):
        ids = rule_ids(text)
        if where.endswith(("/RuleEnum/description", "/Route/properties/rule/description")):
            ids = [token for token in ids if token not in values]
        if ids:
            found[where] = ids
    assert found == {}
    assert values == {"R2", "R3", "R4", "R5"}


def _our_commands() -> list[str]:
    apps = ("people", "sms_admin", "messaging", "twilio_bridge", "config")
    return sorted(name for name, app in get_commands().items() if app in apps)


@pytest.mark.parametrize("name", _our_commands())
def test_no_management_commands_help_shows_a_rule_id(name: str) -> None:
    command = load_command_class(get_commands()[name], name)
    parser = command.create_parser("manage.py", name)
    out = io.StringIO()
    parser.print_help(out)
    assert rule_ids(out.getvalue()) == []
