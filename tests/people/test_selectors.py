"""Who is a student (P1, `Person.is_student`) and the last verified number (P3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from people import selectors
from people.models import PhoneType
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_person_with_the_student_role_only_is_a_student() -> None:
    assert factories.student().is_student is True


def test_a_student_who_also_holds_a_staff_role_is_staff() -> None:
    person = factories.student()
    person.roles.add(factories.RoleFactory(code="advisor"))
    assert person.is_student is False


def test_a_person_without_roles_is_staff() -> None:
    assert factories.PersonFactory().is_student is False


def test_the_last_verified_number_is_the_active_one_verified_most_recently(
    cell: PhoneType,
) -> None:
    person = factories.student()
    now = timezone.now()
    factories.PhoneFactory(person=person, phone_type=cell, verified_at=now - timedelta(days=9))
    latest = factories.PhoneFactory(
        person=person, phone_type=cell, verified_at=now - timedelta(days=2)
    )
    factories.PhoneFactory(person=person, phone_type=cell, verified_at=now, deleted=True)
    factories.PhoneFactory(person=person, phone_type=cell)
    assert selectors.person_last_verified_phone(person) == latest


def test_a_person_without_verified_numbers_has_no_last_verified_number(cell: PhoneType) -> None:
    person = factories.student()
    factories.PhoneFactory(person=person, phone_type=cell)
    assert selectors.person_last_verified_phone(person) is None
