"""Logins and permitted roles are an administrator's to give: an integration's token can sync
people but cannot create, link or unlink a login, nor give anyone a role that may send texts
(directly or through the SIS import). What an administrator gives is recorded (the admin's
change history of the person)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from people.models import Person, Role, RoleKind
from sms_admin.models import SmsConfiguration
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration(db: Any) -> Any:
    user = factories.UserFactory(username="sis-sync")
    user.groups.add(Group.objects.get_or_create(name="integrations")[0])
    return user


@pytest.fixture
def integration_api(integration: Any) -> APIClient:
    return client_for(integration)


@pytest.fixture
def faculty_role(db: Any) -> Role:
    """A staff role that is not permitted to send texts."""
    return factories.RoleFactory(code="faculty", kind=RoleKind.STAFF)


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"first_name": "Alex", "last_name": "Kim", "src_system_id": "SIS-9"}
    body.update(overrides)
    return body


def _records(person: Person) -> list[str]:
    return [
        f"{e.user.get_username()}: {e.change_message}"
        for e in LogEntry.objects.filter(object_id=str(person.pk)).order_by("id")
    ]


# An integration is refused -----------------------------------------------------------------


def test_an_integration_cannot_create_a_person_with_a_login(
    integration_api: APIClient, config: SmsConfiguration, faculty_role: Role
) -> None:
    response = integration_api.post(
        "/api/v1/people/", _body(roles=["faculty"], username="sis-sync"), format="json"
    )
    assert response.status_code == 403
    assert "Only an administrator may create, link or unlink" in response.json()["detail"]
    assert not Person.objects.exists()
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["sis-sync"]


def test_an_integration_cannot_create_a_person_with_a_permitted_role(
    integration_api: APIClient, config: SmsConfiguration
) -> None:
    response = integration_api.post("/api/v1/people/", _body(roles=["advisor"]), format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Only an administrator may give a person the role 'advisor': its holders may send "
        "texts (permitted roles, SMS Configuration). Ask an administrator to do it."
    )
    assert not Person.objects.exists()


def test_an_integration_creates_staff_with_a_role_that_may_not_text(
    integration_api: APIClient, config: SmsConfiguration, faculty_role: Role
) -> None:
    response = integration_api.post("/api/v1/people/", _body(roles=["faculty"]), format="json")
    assert response.status_code == 201
    assert response.json()["username"] is None
    assert response.json()["is_student"] is False


def test_an_integration_cannot_text_through_a_person_it_made_for_its_own_login(
    integration_api: APIClient, config: SmsConfiguration
) -> None:
    made = integration_api.post(
        "/api/v1/people/", _body(roles=["advisor"], username="sis-sync"), format="json"
    )
    assert made.status_code == 403
    student = factories.student()
    sent = integration_api.post(
        "/api/v1/messages/", {"recipient": student.pk, "body": "hi"}, format="json"
    )
    assert sent.status_code == 403


def test_an_integration_cannot_unlink_an_administrators_login(
    integration_api: APIClient, config: SmsConfiguration, admin_user: Any
) -> None:
    person = factories.staff(user=admin_user)
    response = integration_api.patch(
        f"/api/v1/people/{person.pk}/", {"username": None}, format="json"
    )
    assert response.status_code == 403
    assert "Only an administrator" in response.json()["detail"]
    person.refresh_from_db()
    assert person.user == admin_user


def test_an_integration_cannot_link_a_login_to_an_existing_person(
    integration_api: APIClient, config: SmsConfiguration
) -> None:
    person = factories.staff(role_code="faculty")
    response = integration_api.patch(
        f"/api/v1/people/{person.pk}/", {"username": "sis-sync"}, format="json"
    )
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.user is None


def test_an_integration_cannot_add_a_permitted_role_to_a_person(
    integration_api: APIClient, config: SmsConfiguration
) -> None:
    person = factories.staff(role_code="faculty", user=factories.UserFactory(username="prof"))
    response = integration_api.patch(
        f"/api/v1/people/{person.pk}/", {"roles": ["faculty", "advisor"]}, format="json"
    )
    assert response.status_code == 403
    assert "'advisor'" in response.json()["detail"]
    assert [r.code for r in person.roles.all()] == ["faculty"]


def test_an_integration_may_repeat_what_the_person_already_has(
    integration_api: APIClient, config: SmsConfiguration
) -> None:
    """A sync that sends the whole record back changes neither login nor roles: allowed."""
    person = factories.staff(user=factories.UserFactory(username="adv"))
    response = integration_api.patch(
        f"/api/v1/people/{person.pk}/",
        {"first_name": "Renamed", "roles": ["advisor"], "username": "adv"},
        format="json",
    )
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.first_name == "Renamed"
    assert _records(person) == []


def test_an_integration_may_take_a_permitted_role_away_and_that_is_recorded(
    integration_api: APIClient, config: SmsConfiguration, faculty_role: Role
) -> None:
    person = factories.staff(user=factories.UserFactory(username="adv"))
    response = integration_api.patch(
        f"/api/v1/people/{person.pk}/", {"roles": ["faculty"]}, format="json"
    )
    assert response.status_code == 200
    assert _records(person) == ["sis-sync: Permitted role(s) taken away: advisor."]


# An administrator may, and it is recorded --------------------------------------------------


def test_an_administrators_login_and_permitted_role_are_recorded(
    admin_api: APIClient, config: SmsConfiguration
) -> None:
    response = admin_api.post(
        "/api/v1/people/", _body(roles=["advisor"], username="alex"), format="json"
    )
    assert response.status_code == 201
    person = Person.objects.get(pk=response.json()["id"])
    assert person.user is not None and person.user.username == "alex"
    assert _records(person) == ["admin: Login 'alex' linked; Permitted role(s) given: advisor."]


def test_an_administrators_unlink_is_recorded(
    admin_api: APIClient, config: SmsConfiguration
) -> None:
    person = factories.staff(user=factories.UserFactory(username="adv"))
    response = admin_api.patch(f"/api/v1/people/{person.pk}/", {"username": None}, format="json")
    assert response.status_code == 200
    assert _records(person) == ["admin: Login 'adv' unlinked."]


# The SIS import ----------------------------------------------------------------------------


def _feed(*roles: str) -> dict[str, Any]:
    return {
        "people": [
            {"src_system_id": "S-1", "first_name": "Ana", "last_name": "Lopez", "roles": roles}
        ]
    }


def test_an_integrations_import_cannot_give_a_permitted_role(
    integration_api: APIClient, config: SmsConfiguration, faculty_role: Role
) -> None:
    person = factories.staff(role_code="faculty", src_system_id="S-1")
    response = integration_api.post(
        "/api/v1/people/import/", _feed("faculty", "advisor"), format="json"
    )
    assert response.status_code == 403
    assert "'advisor'" in response.json()["detail"]
    assert "people[0]" in response.json()["detail"]
    assert [r.code for r in person.roles.all()] == ["faculty"]


def test_an_integrations_import_cannot_create_a_person_with_a_permitted_role(
    integration_api: APIClient, config: SmsConfiguration
) -> None:
    response = integration_api.post("/api/v1/people/import/", _feed("advisor"), format="json")
    assert response.status_code == 403
    assert not Person.objects.filter(src_system_id="S-1").exists()


def test_an_integrations_import_keeps_a_permitted_role_the_person_holds(
    integration_api: APIClient, config: SmsConfiguration
) -> None:
    factories.staff(src_system_id="S-1")
    response = integration_api.post("/api/v1/people/import/", _feed("advisor"), format="json")
    assert response.status_code == 200
    assert response.json()["people_updated"] == 1


def test_an_administrators_import_gives_a_permitted_role_and_it_is_recorded(
    admin_api: APIClient, config: SmsConfiguration
) -> None:
    response = admin_api.post("/api/v1/people/import/", _feed("advisor"), format="json")
    assert response.status_code == 200
    person = Person.objects.get(src_system_id="S-1")
    assert _records(person) == ["admin: Permitted role(s) given: advisor."]
