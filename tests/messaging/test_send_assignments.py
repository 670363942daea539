"""Sender numbers held by students (S9): the command and the admin list."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from sms_admin.models import SenderAssignment
from tests import factories
from tests.sending_support import pool_numbers

pytestmark = pytest.mark.usefixtures("config")


def held_by_student() -> SenderAssignment:
    """An assignment from before 2021-10-01, when students could still hold one."""
    [number] = pool_numbers(1, start=900)
    student = factories.student(first_name="Old", last_name="Holder")
    phone = factories.PhoneFactory(person=student, number=number.number)
    return SenderAssignment.objects.create(sender_number=number, person=student, phone=phone)


def test_the_command_lists_assignments_held_by_students_and_not_staff(advisor: Any) -> None:
    from sms_admin import pool

    pool_numbers(1)
    staff_assignment = pool.sender_number_ensure(person=advisor)
    student_assignment = held_by_student()
    out = StringIO()

    call_command("student_sender_assignments", stdout=out)

    text = out.getvalue()
    assert "Old Holder" in text
    assert student_assignment.sender_number.number in text
    assert staff_assignment is not None
    assert staff_assignment.sender_number.number not in text
    assert SenderAssignment.objects.filter(released_at__isnull=True).count() == 2


def test_the_command_releases_them_with_release() -> None:
    assignment = held_by_student()

    call_command("student_sender_assignments", "--release", stdout=StringIO())

    assignment.refresh_from_db()
    assert assignment.released_at is not None
    assert assignment.phone.deleted is True


def test_the_admin_list_filters_assignments_held_by_students(advisor: Any, superuser: Any) -> None:
    from sms_admin import pool

    pool_numbers(1)
    staff_assignment = pool.sender_number_ensure(person=advisor)
    assert staff_assignment is not None
    student_assignment = held_by_student()
    client = Client()
    client.force_login(superuser)

    page = client.get("/admin/sms_admin/senderassignment/?held_by_student=yes")

    assert page.status_code == 200
    html = page.content.decode()
    assert student_assignment.sender_number.number in html
    assert staff_assignment.sender_number.number not in html
