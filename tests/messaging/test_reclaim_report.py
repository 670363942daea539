"""The reclaim report (A5): numbers held by students, by people without a permitted role or an
active login, or idle for N days (90 by default), each with its reasons and a release through
the Phone Number Usage grid's delete; and the grid itself marking and filtering numbers held by
students."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messaging import reclaim
from messaging.models import Channel, Direction, Message, Status
from people.models import Person
from sms_admin.models import SenderAssignment, SmsConfiguration
from tests import factories
from tests.factories import assignments

PAGE = "insight-reclaim"
NOW = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def held(person: Person, *, days_ago: int = 200) -> SenderAssignment:
    with time_machine.travel(NOW - timedelta(days=days_ago), tick=False):
        return assignments.assignment(person)


def sent(person: Person, *, days_ago: int, channel: str = Channel.SMS) -> None:
    row = Message.objects.create(
        direction=Direction.OUTBOUND,
        channel=channel,
        status=Status.DELIVERED,
        sender=person,
        recipient=factories.student(),
        body="Hello",
    )
    Message.objects.filter(pk=row.pk).update(created_at=NOW - timedelta(days=days_ago))


def active_staff(name: str, role: str = "advisor") -> Person:
    return factories.staff(role, first_name=name, last_name="Staff", user=factories.UserFactory())


def listed(idle_days: int = 90) -> dict[str, tuple[str, ...]]:
    rows = reclaim.reclaim_rows(
        list(reclaim.reclaim_candidates(idle_days=idle_days)), idle_days=idle_days
    )
    return {row.assignment.person.first_name: row.reasons for row in rows}


@pytest.fixture
def permitted(config: SmsConfiguration) -> SmsConfiguration:
    """Advisors may send (the `config` fixture); coaches may not."""
    return config


def test_each_reason_to_reclaim_a_number_is_found_and_said_in_words(
    permitted: SmsConfiguration,
) -> None:
    busy = active_staff("Busy")
    sent(busy, days_ago=3)
    held(busy)
    student = factories.student(first_name="Stu", user=factories.UserFactory())
    held(student)
    sent(student, days_ago=3)
    coach = active_staff("Coach", role="coach")
    held(coach)
    sent(coach, days_ago=3)
    nologin = factories.staff(first_name="Nolo")
    held(nologin)
    sent(nologin, days_ago=3)
    inactive = factories.staff(first_name="Ina", user=factories.UserFactory(is_active=False))
    held(inactive)
    sent(inactive, days_ago=3)
    idle = active_staff("Idle")
    held(idle)
    sent(idle, days_ago=91)
    never = active_staff("Never")
    held(never)

    assert listed() == {
        "Stu": (
            "Is a student (students may not hold a number)",
            "Holds no role that may send texts",
        ),
        "Coach": ("Holds no role that may send texts",),
        "Nolo": ("Has no login",),
        "Ina": ("Login is inactive",),
        "Idle": ("Has sent nothing for 90 days or more",),
        "Never": ("Has sent nothing since the number was assigned (90 days or more)",),
    }


def test_a_number_assigned_recently_is_not_idle_yet_and_an_email_counts_as_sending(
    permitted: SmsConfiguration,
) -> None:
    fresh = active_staff("Fresh")
    held(fresh, days_ago=10)
    mailer = active_staff("Mailer")
    held(mailer)
    sent(mailer, days_ago=5, channel=Channel.EMAIL)

    assert listed() == {}
    assert listed(idle_days=4) == {
        "Fresh": ("Has sent nothing since the number was assigned (4 days or more)",),
        "Mailer": ("Has sent nothing for 4 days or more",),
    }


def test_released_assignments_are_not_listed(permitted: SmsConfiguration) -> None:
    assignment = held(factories.student(first_name="Gone"))
    SenderAssignment.objects.filter(pk=assignment.pk).update(released_at=NOW)

    assert listed() == {}


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 90), ("", 90), (" 30 ", 30), ("1", 1), ("3650", 3650)]
)
def test_idle_days_default_to_90(value: str | None, expected: int) -> None:
    assert reclaim.idle_days_parse(value) == expected


@pytest.mark.parametrize("value", ["0", "-5", "3651", "ninety", "1.5", "\uff19\uff10"])
def test_idle_days_that_are_not_a_whole_number_from_1_to_3650_are_refused(value: str) -> None:
    with pytest.raises(reclaim.IdleDaysError, match="whole number from 1 to 3650"):
        reclaim.idle_days_parse(value)


def test_the_page_lists_the_numbers_with_their_reasons_and_a_release_link(
    permitted: SmsConfiguration, admin_user: Any
) -> None:
    assignment = held(factories.student(first_name="Stu"))

    response = login(admin_user).get(reverse(PAGE))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Is a student (students may not hold a number)" in body
    # Releasing goes through the delete confirmation, which says where replies will go.
    confirm = reverse("sms-assignment-delete-confirm", args=[assignment.pk])
    assert f'href="{confirm}?next={quote(reverse(PAGE), safe="/")}"' in body


def test_a_bad_idle_days_value_is_a_400_with_the_error_next_to_the_field(
    db: Any, admin_user: Any
) -> None:
    response = login(admin_user).get(reverse(PAGE), {"idle_days": "0"})

    assert response.status_code == 400
    assert "whole number from 1 to 3650" in response.context["form"].errors["idle_days"][0]


def test_releasing_from_the_report_frees_the_number_and_comes_back_to_the_report(
    permitted: SmsConfiguration, admin_user: Any
) -> None:
    assignment = held(factories.student(first_name="Stu"))
    back = reverse(PAGE) + "?idle_days=30"

    response = login(admin_user).post(
        reverse("sms-assignment-delete", args=[assignment.pk]), {"next": back}
    )

    assert response.status_code == 302
    assert response["Location"] == back
    assignment.refresh_from_db()
    assert assignment.released_at is not None
    assert listed() == {}


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_a_release_never_sends_the_browser_off_site(
    permitted: SmsConfiguration, admin_user: Any, back: str
) -> None:
    assignment = held(factories.student())

    response = login(admin_user).post(
        reverse("sms-assignment-delete", args=[assignment.pk]), {"next": back}
    )

    assert response["Location"] == reverse("sms-config-twilio")


def test_the_report_costs_the_same_queries_for_1_and_30_numbers(
    permitted: SmsConfiguration, admin_user: Any
) -> None:
    client = login(admin_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(PAGE)).status_code == 200
        return len(captured)

    held(factories.student())
    one = queries()
    for _ in range(29):
        held(factories.staff("coach"))

    assert queries() == one


@pytest.mark.django_db
def test_only_administrators_open_the_reclaim_report(advisor: Any) -> None:
    assert Client().get(reverse(PAGE))["Location"].startswith("/accounts/login/")
    assert login(advisor.user).get(reverse(PAGE)).status_code == 403


# The Phone Number Usage grid ------------------------------------------------------------------


def test_the_grid_marks_numbers_held_by_students_and_can_show_only_those(
    permitted: SmsConfiguration, admin_user: Any
) -> None:
    held(factories.student(first_name="Stu", last_name="Dent"))
    held(active_staff("Alex"))
    client = login(admin_user)

    everyone = client.get(reverse("sms-config-twilio"))
    students = client.get(reverse("sms-config-twilio"), {"holder": "students"})

    assert [(r.person.first_name, r.held_by_student) for r in everyone.context["page"]] == [
        ("Alex", False),
        ("Stu", True),
    ]
    assert everyone.content.decode().count('class="badge badge-off held-by-student"') == 1
    assert [r.person.first_name for r in students.context["page"]] == ["Stu"]
    assert b'name="holder" value="students" id="usage-students" checked' in students.content


def test_the_grids_student_filter_keeps_to_its_pages(
    permitted: SmsConfiguration, admin_user: Any
) -> None:
    for _ in range(30):
        held(factories.student())

    response = login(admin_user).get(reverse("sms-config-twilio"), {"holder": "students"})

    assert b"?holder=students&amp;page=2" in response.content
