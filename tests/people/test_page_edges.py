"""Rough edges of the people pages through Django's test client: the Person Phone data view
says "not applicable" for system numbers, the person page's Verified column gives the date,
the prospect import counts in proper English."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.factories import assignments

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def row_of(page: str, number: str) -> str:
    found = re.search(r"<tr[^>]*>((?:(?!</tr>).)*?" + re.escape(number) + r".*?)</tr>", page, re.S)
    assert found, number
    return found.group(1)


def test_the_data_view_says_not_applicable_for_a_system_numbers_sms_status(
    admin_user: Any,
) -> None:
    held = assignments.assignment(number="+12015550901")
    student = factories.PhoneFactory(number="+12025550902", sms_status="enabled")

    page = login(admin_user).get(reverse("person-phone-data")).content.decode()

    system_row = row_of(page, held.phone.number)
    assert "not applicable" in system_row
    assert "SMS Default" not in system_row
    student_row = row_of(page, student.number)
    assert "SMS Enabled" in student_row
    assert "not applicable" not in student_row


def test_the_person_pages_verified_column_gives_the_date_and_who(
    admin_user: Any, config: Any
) -> None:
    person = factories.student()
    factories.PhoneFactory(
        person=person,
        number="+12025550903",
        verified_at=datetime(2026, 3, 14, 15, 0, tzinfo=UTC),
        verified_by=admin_user,
    )
    factories.PhoneFactory(person=person, number="+12025550904")

    page = login(admin_user).get(reverse("person-detail", args=[person.pk])).content.decode()

    verified = row_of(page, "+12025550903")
    assert re.search(r"<time [^>]*>2026-03-14</time>", verified)
    assert "by admin" in verified
    assert '<span class="muted">no</span>' in row_of(page, "+12025550904")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["Ana,Lopez,+12025550101"], "Imported 1 person and 1 phone, marked verified by you."),
        (
            ["Ana,Lopez,+12025550101", "Ben,Ode,+12025550102"],
            "Imported 2 people and 2 phones, marked verified by you.",
        ),
    ],
)
def test_the_prospect_import_counts_in_proper_english(
    admin_user: Any, config: Any, rows: list[str], message: str
) -> None:
    factories.RoleFactory(code="student", kind="student")
    csv = "first_name,last_name,phone\n" + "\n".join(rows) + "\n"
    client = login(admin_user)
    client.post(reverse("prospect-upload"), {"file": SimpleUploadedFile("p.csv", csv.encode())})

    response = client.post(reverse("prospect-upload"), {"csv_text": csv}, follow=True)

    assert message in response.content.decode()
