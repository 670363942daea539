"""A person's active phones have different numbers: adding a number the person already has is a
400 naming the phone to edit instead (however the number is typed); a deleted record does not
count; another person may share the number. The SIS feed and the admin say so too."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from people.admin import PersonPhoneForm
from people.models import Person, PersonPhone, PhoneType
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def student(db: Any) -> Person:
    return factories.student()


def _add(api: APIClient, person: Person, number: str) -> Any:
    return api.post(
        f"/api/v1/people/{person.pk}/phones/", {"number": number, "phone_type": "cell"}, "json"
    )


def test_the_same_number_typed_another_way_is_refused_naming_the_phone(
    advisor_api: APIClient, cell: PhoneType, student: Person
) -> None:
    first = _add(advisor_api, student, "+12025550143")
    assert first.status_code == 201
    again = _add(advisor_api, student, "(202) 555-0143")
    assert again.status_code == 400
    assert again.json() == {
        "number": [
            f"+12025550143 is already one of this person's phones (phone {first.json()['id']}); "
            "edit that one instead of adding it again."
        ]
    }
    assert student.phones.count() == 1


def test_a_deleted_phones_number_may_be_added_again(
    advisor_api: APIClient, cell: PhoneType, student: Person
) -> None:
    first = _add(advisor_api, student, "+12025550143").json()
    assert advisor_api.delete(f"/api/v1/phones/{first['id']}/").status_code == 204
    assert _add(advisor_api, student, "+12025550143").status_code == 201
    assert student.phones.filter(deleted=False).count() == 1


def test_two_people_may_share_a_number(
    advisor_api: APIClient, cell: PhoneType, student: Person
) -> None:
    sibling = factories.student()
    assert _add(advisor_api, student, "+12025550143").status_code == 201
    assert _add(advisor_api, sibling, "+12025550143").status_code == 201


def test_an_sis_feed_listing_a_number_twice_for_a_person_is_a_row_error(
    admin_api: APIClient, cell: PhoneType
) -> None:
    factories.RoleFactory(code="student", kind="student")
    phones = [
        {"src_system_id": "PH-1", "number": "+12025550143", "phone_type": "cell"},
        {"src_system_id": "PH-2", "number": "202-555-0143", "phone_type": "cell"},
    ]
    body = {
        "people": [
            {
                "src_system_id": "S-1",
                "first_name": "Ana",
                "last_name": "Lopez",
                "roles": ["student"],
                "phones": phones,
            }
        ]
    }
    response = admin_api.post("/api/v1/people/import/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "row": "people[0].phones[1]",
            "messages": ["+12025550143 is already listed for this person at people[0].phones[0]."],
        }
    ]
    assert not Person.objects.exists()


def test_the_admin_form_refuses_a_second_active_phone_with_the_number(
    cell: PhoneType, student: Person
) -> None:
    existing = factories.PhoneFactory(person=student, number="+12025550143", phone_type=cell)
    data = {"person": student.pk, "number": "202 555 0143", "phone_type": cell.pk}
    form = PersonPhoneForm(data=data)
    assert not form.is_valid()
    assert form.errors["number"] == [
        f"+12025550143 is already one of this person's phones (phone {existing.pk}); edit that "
        "one instead of adding it again."
    ]
    assert PersonPhoneForm(data={**data, "deleted": "on"}).is_valid()
    assert PersonPhoneForm(data=data | {"number": "+12025550144"}).is_valid()
    assert PersonPhone.objects.count() == 1
