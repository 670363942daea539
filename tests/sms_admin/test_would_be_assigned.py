"""Whether a first send would be given a pool number: read for the person page, never assigning
(S2, C7, P1)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.models import Person
from sms_admin import pool, selectors
from sms_admin import services as sms_admin_services
from sms_admin.models import SenderAssignment
from tests import factories
from tests.factories import assignments
from tests.sending_support import pool_numbers


def test_a_staff_member_without_a_number_gets_one_when_one_is_free(
    advisor: Person, config: Any
) -> None:
    pool_numbers(1)

    with CaptureQueriesContext(connection) as queries:
        assert selectors.sender_number_would_be_assigned(advisor.pk)

    assert len(queries) == 1
    assert not SenderAssignment.objects.exists()


def test_nobody_is_assigned_a_second_number(advisor: Person, config: Any) -> None:
    assignments.assignment(advisor)
    pool_numbers(1)

    assert not selectors.sender_number_would_be_assigned(advisor.pk)


def test_students_are_never_assigned_a_number(student_person: Person, config: Any) -> None:
    pool_numbers(1)

    assert not selectors.sender_number_would_be_assigned(student_person.pk)


def test_a_person_with_both_kinds_of_role_counts_as_staff(config: Any) -> None:
    person = factories.student()
    person.roles.add(factories.RoleFactory(code="advisor"))
    pool_numbers(1)

    assert selectors.sender_number_would_be_assigned(person.pk)


def test_no_number_is_assigned_when_none_is_free(advisor: Person, config: Any) -> None:
    assignments.assignment()  # the pool's only number is held

    assert not selectors.sender_number_would_be_assigned(advisor.pk)


def test_no_number_is_assigned_once_the_phone_number_limit_is_reached(
    advisor: Person, config: Any
) -> None:
    assignments.assignment()
    pool_numbers(1)
    sms_admin_services.configuration_update(actor=None, sms_phone_number_limit=1)

    assert not selectors.sender_number_would_be_assigned(advisor.pk)

    sms_admin_services.configuration_update(actor=None, sms_phone_number_limit=2)
    assert selectors.sender_number_would_be_assigned(advisor.pk)


def test_a_released_number_is_free_again(advisor: Person, config: Any) -> None:
    held = assignments.assignment()

    pool.sender_assignment_release(assignment_id=held.pk)

    assert selectors.sender_number_would_be_assigned(advisor.pk)
