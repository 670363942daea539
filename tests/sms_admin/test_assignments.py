"""Releasing a sender assignment (S8): the number is freed, the system phone soft-deleted."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from people.models import PersonPhone
from sms_admin import assignments as assignment_services
from sms_admin.models import SenderAssignment
from tests.factories import assignments


def test_release_marks_who_and_when_and_soft_deletes_the_system_phone(admin_user: Any) -> None:
    held = assignments.assignment()
    assignment_services.sender_assignment_release(assignment=held, actor=admin_user)
    stored = SenderAssignment.objects.get(pk=held.pk)
    assert stored.released_at is not None
    assert stored.released_by == admin_user
    phone = PersonPhone.objects.get(pk=held.phone_id)
    assert phone.deleted is True


def test_a_released_number_can_be_assigned_to_someone_else(admin_user: Any) -> None:
    held = assignments.assignment()
    assignment_services.sender_assignment_release(assignment=held, actor=admin_user)
    again = assignments.assignment(number=held.sender_number.number)
    assert again.sender_number_id == held.sender_number_id
    assert SenderAssignment.objects.filter(released_at__isnull=True).get() == again


def test_releasing_twice_is_refused_and_changes_nothing(admin_user: Any, superuser: Any) -> None:
    held = assignments.assignment()
    assignment_services.sender_assignment_release(assignment=held, actor=admin_user)
    with pytest.raises(ValidationError, match="already un-assigned"):
        assignment_services.sender_assignment_release(assignment=held, actor=superuser)
    assert SenderAssignment.objects.get(pk=held.pk).released_by == admin_user
