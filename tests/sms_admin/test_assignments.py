"""Releasing a sender assignment (S8, S9): one service, `pool.sender_assignment_release`, behind
the Twilio tab's usage grid, the phone-usage API, the admin action and the S9 command. The number
is freed, the system phone soft-deleted in the same transaction, and who released it recorded."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from people import services as people_services
from people.models import PersonPhone
from sms_admin import pool
from sms_admin.models import SenderAssignment
from tests import factories
from tests.factories import assignments


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_release_marks_who_and_when_and_soft_deletes_the_system_phone(admin_user: Any) -> None:
    held = assignments.assignment()
    pool.sender_assignment_release(assignment_id=held.pk, actor=admin_user)
    stored = SenderAssignment.objects.get(pk=held.pk)
    assert stored.released_at is not None
    assert stored.released_by == admin_user
    phone = PersonPhone.objects.get(pk=held.phone_id)
    assert phone.deleted is True


def test_a_release_without_a_logged_in_actor_records_no_one(db: Any) -> None:
    held = assignments.assignment()
    pool.sender_assignment_release(assignment_id=held.pk)
    stored = SenderAssignment.objects.get(pk=held.pk)
    assert stored.released_at is not None
    assert stored.released_by is None


def test_a_released_number_can_be_assigned_to_someone_else(admin_user: Any) -> None:
    held = assignments.assignment()
    pool.sender_assignment_release(assignment_id=held.pk, actor=admin_user)
    again = assignments.assignment(number=held.sender_number.number)
    assert again.sender_number_id == held.sender_number_id
    assert SenderAssignment.objects.filter(released_at__isnull=True).get() == again


def test_releasing_twice_is_refused_and_changes_nothing(admin_user: Any, superuser: Any) -> None:
    held = assignments.assignment()
    pool.sender_assignment_release(assignment_id=held.pk, actor=admin_user)
    first = SenderAssignment.objects.get(pk=held.pk)
    with pytest.raises(ValidationError, match="already un-assigned"):
        pool.sender_assignment_release(assignment_id=held.pk, actor=superuser)
    stored = SenderAssignment.objects.get(pk=held.pk)
    assert (stored.released_at, stored.released_by) == (first.released_at, admin_user)


def test_releasing_an_unknown_assignment_raises_does_not_exist(db: Any) -> None:
    with pytest.raises(SenderAssignment.DoesNotExist):
        pool.sender_assignment_release(assignment_id=424242)


def test_a_release_whose_phone_cannot_be_deleted_leaves_the_assignment_active(
    admin_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = assignments.assignment()

    def broken(*, phone: PersonPhone, releasing_assignment: bool = False) -> PersonPhone:
        raise RuntimeError("the phone write failed")

    monkeypatch.setattr(people_services, "phone_delete", broken)
    with pytest.raises(RuntimeError):
        pool.sender_assignment_release(assignment_id=held.pk, actor=admin_user)

    stored = SenderAssignment.objects.get(pk=held.pk)
    assert (stored.released_at, stored.released_by) == (None, None)
    assert PersonPhone.objects.get(pk=held.phone_id).deleted is False


# --- every caller goes through the one service ------------------------------------------------


def test_the_usage_grid_releases_with_the_administrator_recorded(admin_user: Any) -> None:
    held = assignments.assignment()
    response = login(admin_user).post(reverse("sms-assignment-delete", args=[held.pk]))
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.released_by == admin_user
    assert PersonPhone.objects.get(pk=held.phone_id).deleted is True


def test_the_usage_grid_says_so_when_the_number_was_already_un_assigned(
    admin_user: Any, superuser: Any
) -> None:
    held = assignments.assignment()
    pool.sender_assignment_release(assignment_id=held.pk, actor=superuser)

    response = login(admin_user).post(reverse("sms-assignment-delete", args=[held.pk]), follow=True)

    assert response.status_code == 200
    assert "This number was already un-assigned." in response.content.decode()
    held.refresh_from_db()
    assert held.released_by == superuser


def test_the_usage_grid_answers_404_for_an_unknown_assignment(admin_user: Any) -> None:
    response = login(admin_user).post(reverse("sms-assignment-delete", args=[424242]))
    assert response.status_code == 404


def test_the_api_delete_records_the_administrator(admin_api: APIClient, admin_user: Any) -> None:
    held = assignments.assignment()
    assert admin_api.delete(f"/api/v1/phone-usage/{held.pk}/").status_code == 204
    held.refresh_from_db()
    assert held.released_by == admin_user


def test_a_second_api_delete_is_a_400_with_a_message_and_changes_nothing(
    admin_api: APIClient, admin_user: Any, superuser: Any
) -> None:
    held = assignments.assignment()
    pool.sender_assignment_release(assignment_id=held.pk, actor=superuser)

    response = admin_api.delete(f"/api/v1/phone-usage/{held.pk}/")

    assert response.status_code == 400
    assert "already un-assigned" in str(response.json())
    held.refresh_from_db()
    assert held.released_by == superuser


def test_the_admin_action_releases_with_the_administrator_recorded(superuser: Any) -> None:
    held = assignments.assignment()
    done = assignments.assignment()
    pool.sender_assignment_release(assignment_id=done.pk)

    response = login(superuser).post(
        "/admin/sms_admin/senderassignment/",
        {"action": "release_assignments", "_selected_action": [held.pk, done.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Un-assigned 1 number(s)." in response.content.decode()
    held.refresh_from_db()
    assert held.released_by == superuser
    assert PersonPhone.objects.get(pk=held.phone_id).deleted is True


def test_the_s9_command_releases_student_held_numbers_through_the_service(db: Any) -> None:
    student = factories.student()
    held = assignments.assignment(student)
    out = StringIO()

    call_command("student_sender_assignments", "--release", stdout=out)

    held.refresh_from_db()
    assert held.released_at is not None
    assert PersonPhone.objects.get(pk=held.phone_id).deleted is True
    assert "Released 1 assignment(s)." in out.getvalue()
