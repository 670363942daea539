"""REST API v1 for roles, phone types, people and phones: success, 400, 401, 403 and 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from people.models import Person, PersonPhone, PhoneStatusChange, PhoneType, Role
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration_api(db: Any) -> APIClient:
    user = factories.UserFactory(username="sis-sync")
    user.groups.add(Group.objects.get_or_create(name="integrations")[0])
    return client_for(user)


@pytest.fixture
def nobody_api(db: Any) -> APIClient:
    """Logged in, but neither an administrator, nor a person, nor an integration."""
    return client_for(factories.UserFactory(username="nobody"))


@pytest.fixture
def phone(cell: PhoneType) -> PersonPhone:
    return factories.PhoneFactory(
        person=factories.student(), number="+12025550143", phone_type=cell
    )


# roles/ ----------------------------------------------------------------------------------------


def test_an_administrator_lists_roles_with_code_name_and_kind(admin_api: APIClient) -> None:
    factories.RoleFactory(code="advisor", name="Advisor")
    response = admin_api.get("/api/v1/roles/")
    assert response.status_code == 200
    assert response.json() == [{"code": "advisor", "name": "Advisor", "kind": "staff"}]


def test_an_administrator_creates_a_role(admin_api: APIClient) -> None:
    response = admin_api.post(
        "/api/v1/roles/", {"code": "coach", "name": "Coach", "kind": "staff"}, format="json"
    )
    assert response.status_code == 201
    assert Role.objects.get(code="coach").kind == "staff"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "coach", "name": "Coach", "kind": "teacher"}, "kind"),
        ({"code": "two words", "name": "Coach", "kind": "staff"}, "code"),
        ({"name": "Coach", "kind": "staff"}, "code"),
        ({"code": "advisor", "name": "Again", "kind": "staff"}, "code"),
    ],
)
def test_a_bad_role_is_refused_with_a_message_on_the_field(
    admin_api: APIClient, body: dict[str, str], field: str
) -> None:
    factories.RoleFactory(code="advisor")
    response = admin_api.post("/api/v1/roles/", body, format="json")
    assert response.status_code == 400
    assert response.json()[field]
    assert Role.objects.count() == 1


def test_staff_read_roles_but_may_not_create_them(advisor_api: APIClient) -> None:
    assert advisor_api.get("/api/v1/roles/").status_code == 200
    response = advisor_api.post(
        "/api/v1/roles/", {"code": "coach", "name": "Coach", "kind": "staff"}, format="json"
    )
    assert response.status_code == 403
    assert "administrators" in response.json()["detail"]
    assert not Role.objects.filter(code="coach").exists()


def test_students_may_not_read_roles(student_api: APIClient) -> None:
    assert student_api.get("/api/v1/roles/").status_code == 403


def test_anonymous_requests_for_roles_get_401(anon_api: APIClient) -> None:
    assert anon_api.get("/api/v1/roles/").status_code == 401
    assert anon_api.post("/api/v1/roles/", {}, format="json").status_code == 401


# phone-types/ ----------------------------------------------------------------------------------


def test_an_administrator_lists_and_creates_phone_types(admin_api: APIClient) -> None:
    response = admin_api.post("/api/v1/phone-types/", {"code": "cell", "name": "Cell"})
    assert response.status_code == 201
    codes = [t["code"] for t in admin_api.get("/api/v1/phone-types/").json()]
    assert codes == ["cell", "SYSTEM"]


def test_a_duplicate_phone_type_code_is_refused(admin_api: APIClient, cell: PhoneType) -> None:
    response = admin_api.post("/api/v1/phone-types/", {"code": "cell", "name": "Mobile"})
    assert response.status_code == 400
    assert response.json()["code"]
    assert PhoneType.objects.get(code="cell").name == "Cell"


def test_staff_may_not_create_phone_types(advisor_api: APIClient) -> None:
    response = advisor_api.post("/api/v1/phone-types/", {"code": "pager", "name": "Pager"})
    assert response.status_code == 403
    assert not PhoneType.objects.filter(code="pager").exists()


def test_anonymous_requests_for_phone_types_get_401(anon_api: APIClient) -> None:
    assert anon_api.get("/api/v1/phone-types/").status_code == 401


# people/ ---------------------------------------------------------------------------------------


def _person_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "src_system_id": "SIS-77",
        "first_name": "Sam",
        "last_name": "Student",
        "email": "sam@example.edu",
        "roles": ["student"],
    }
    body.update(overrides)
    return body


def test_an_administrator_creates_a_student(admin_api: APIClient) -> None:
    factories.RoleFactory(code="student", kind="student")
    response = admin_api.post("/api/v1/people/", _person_body(), format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["roles"] == ["student"]
    assert data["is_student"] is True
    assert data["username"] is None
    assert Person.objects.get(pk=data["id"]).src_system_id == "SIS-77"


def test_an_administrator_creates_a_staff_member_with_a_login(admin_api: APIClient) -> None:
    factories.RoleFactory(code="advisor")
    response = admin_api.post(
        "/api/v1/people/", _person_body(roles=["advisor"], username="alex"), format="json"
    )
    assert response.status_code == 201
    person = Person.objects.get(pk=response.json()["id"])
    assert response.json()["is_student"] is False
    assert person.user is not None
    assert person.user.username == "alex"
    assert not person.user.has_usable_password()


def test_an_administrator_lists_and_reads_people(admin_api: APIClient) -> None:
    person = factories.student()
    listed = admin_api.get("/api/v1/people/").json()
    assert [p["id"] for p in listed["results"]] == [person.pk]
    detail = admin_api.get(f"/api/v1/people/{person.pk}/").json()
    assert detail["src_system_id"] == person.src_system_id
    assert detail["is_student"] is True


def test_an_administrator_patches_a_person(admin_api: APIClient) -> None:
    person = factories.student()
    factories.RoleFactory(code="advisor")
    response = admin_api.patch(
        f"/api/v1/people/{person.pk}/",
        {"first_name": "Samantha", "roles": ["advisor"]},
        format="json",
    )
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.first_name == "Samantha"
    assert [r.code for r in person.roles.all()] == ["advisor"]
    assert response.json()["is_student"] is False


def test_is_student_is_read_only(admin_api: APIClient) -> None:
    person = factories.student()
    admin_api.patch(f"/api/v1/people/{person.pk}/", {"is_student": False}, format="json")
    assert admin_api.get(f"/api/v1/people/{person.pk}/").json()["is_student"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"roles": ["dean"]}, "roles"),
        ({"roles": "student"}, "roles"),
        ({"email": "not-an-email"}, "email"),
        ({"first_name": ""}, "first_name"),
        ({"src_system_id": "TAKEN"}, "src_system_id"),
        ({"src_system_id": "x" * 129}, "src_system_id"),
        ({"username": "linked"}, "username"),
        ({"username": "x" * 151}, "username"),
        ({"username": "no spaces please"}, "username"),
    ],
)
def test_bad_person_input_is_refused_with_a_message_on_the_field(
    admin_api: APIClient, body: dict[str, Any], field: str
) -> None:
    factories.RoleFactory(code="student", kind="student")
    factories.PersonFactory(src_system_id="TAKEN", user=factories.UserFactory(username="linked"))
    response = admin_api.post("/api/v1/people/", _person_body(**body), format="json")
    assert response.status_code == 400
    assert response.json()[field]
    assert Person.objects.count() == 1


def test_a_patch_may_not_take_another_persons_source_system_id(admin_api: APIClient) -> None:
    factories.PersonFactory(src_system_id="TAKEN")
    person = factories.PersonFactory(src_system_id="MINE")
    response = admin_api.patch(
        f"/api/v1/people/{person.pk}/", {"src_system_id": "TAKEN"}, format="json"
    )
    assert response.status_code == 400
    person.refresh_from_db()
    assert person.src_system_id == "MINE"


def test_a_person_keeps_their_own_source_system_id_and_login_on_patch(admin_api: APIClient) -> None:
    person = factories.PersonFactory(
        src_system_id="MINE", user=factories.UserFactory(username="me")
    )
    response = admin_api.patch(
        f"/api/v1/people/{person.pk}/", {"src_system_id": "MINE", "username": "me"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["username"] == "me"


def test_staff_and_students_may_not_manage_people(
    advisor_api: APIClient, student_api: APIClient
) -> None:
    for api in (advisor_api, student_api):
        assert api.get("/api/v1/people/").status_code == 403
        assert api.post("/api/v1/people/", _person_body(), format="json").status_code == 403


def test_anonymous_requests_for_people_get_401(anon_api: APIClient) -> None:
    assert anon_api.get("/api/v1/people/").status_code == 401


def test_an_unknown_person_is_404(admin_api: APIClient) -> None:
    assert admin_api.get("/api/v1/people/999999/").status_code == 404
    assert admin_api.patch("/api/v1/people/999999/", {}, format="json").status_code == 404


def test_people_cannot_be_deleted_or_replaced(admin_api: APIClient) -> None:
    person = factories.student()
    assert admin_api.delete(f"/api/v1/people/{person.pk}/").status_code == 405
    assert admin_api.put(f"/api/v1/people/{person.pk}/", {}, format="json").status_code == 405
    assert Person.objects.filter(pk=person.pk).exists()


# people/{id}/phones/ ---------------------------------------------------------------------------


def test_staff_list_a_persons_phones(advisor_api: APIClient, phone: PersonPhone) -> None:
    response = advisor_api.get(f"/api/v1/people/{phone.person_id}/phones/")
    assert response.status_code == 200
    [data] = response.json()
    assert data["number"] == "+12025550143"
    assert data["phone_type"] == "cell"
    assert data["sms_status"] == "default"
    assert data["verified"] is False
    assert data["deleted"] is False
    assert set(data) >= {
        "id",
        "verified_at",
        "verified_by",
        "src_system_id",
        "phone_type_src_system_id",
    }


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("(202) 555-0143", "+12025550143"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (202) 555-0143 ext. 12", "+12025550143"),
    ],
)
def test_staff_add_a_phone_typed_in_any_usual_way_and_it_is_stored_in_e164(
    advisor_api: APIClient, cell: PhoneType, typed: str, stored: str
) -> None:
    person = factories.student()
    response = advisor_api.post(
        f"/api/v1/people/{person.pk}/phones/",
        {"number": typed, "phone_type": "cell", "verified": True},
        format="json",
    )
    assert response.status_code == 201
    data = response.json()
    assert data["number"] == stored
    assert data["verified"] is True
    assert data["verified_by"] == "advisor"
    assert person.phones.get().number == stored


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"number": "hello", "phone_type": "cell"}, "number"),
        ({"number": "555", "phone_type": "cell"}, "number"),
        ({"number": "", "phone_type": "cell"}, "number"),
        ({"phone_type": "cell"}, "number"),
        ({"number": "(202) 555-0143", "phone_type": "fax"}, "phone_type"),
        ({"number": "(202) 555-0143"}, "phone_type"),
        ({"number": "(202) 555-0143", "phone_type": "cell", "sms_status": "on"}, "sms_status"),
        ({"number": "(202) 555-0143", "phone_type": "cell", "verified": "maybe"}, "verified"),
    ],
)
def test_a_bad_phone_is_refused_with_a_message_on_the_field(
    advisor_api: APIClient, cell: PhoneType, body: dict[str, Any], field: str
) -> None:
    person = factories.student()
    response = advisor_api.post(f"/api/v1/people/{person.pk}/phones/", body, format="json")
    assert response.status_code == 400
    assert response.json()[field]
    assert not PersonPhone.objects.exists()


def test_the_invalid_number_message_says_what_to_do(
    advisor_api: APIClient, cell: PhoneType
) -> None:
    person = factories.student()
    response = advisor_api.post(
        f"/api/v1/people/{person.pk}/phones/", {"number": "12", "phone_type": "cell"}
    )
    assert "'12' is not a valid phone number" in response.json()["number"][0]


def test_phones_of_an_unknown_person_are_404(advisor_api: APIClient, cell: PhoneType) -> None:
    assert advisor_api.get("/api/v1/people/999999/phones/").status_code == 404
    response = advisor_api.post(
        "/api/v1/people/999999/phones/", {"number": "2025550143", "phone_type": "cell"}
    )
    assert response.status_code == 404
    assert not PersonPhone.objects.exists()


def test_students_and_strangers_may_not_read_phones(
    student_api: APIClient, nobody_api: APIClient, integration_api: APIClient, phone: PersonPhone
) -> None:
    for api in (student_api, nobody_api):
        assert api.get(f"/api/v1/people/{phone.person_id}/phones/").status_code == 403
        assert api.get(f"/api/v1/phones/{phone.pk}/").status_code == 403


def test_anonymous_requests_for_phones_get_401(anon_api: APIClient, phone: PersonPhone) -> None:
    assert anon_api.get(f"/api/v1/people/{phone.person_id}/phones/").status_code == 401
    assert anon_api.get(f"/api/v1/phones/{phone.pk}/").status_code == 401
    assert (
        anon_api.patch(f"/api/v1/phones/{phone.pk}/", {"sms_status": "enabled"}).status_code == 401
    )
    assert anon_api.delete(f"/api/v1/phones/{phone.pk}/").status_code == 401
    phone.refresh_from_db()
    assert (phone.sms_status, phone.deleted) == ("default", False)


# phones/{id}/ ----------------------------------------------------------------------------------


def test_staff_read_one_phone(advisor_api: APIClient, phone: PersonPhone) -> None:
    response = advisor_api.get(f"/api/v1/phones/{phone.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == phone.pk


def test_staff_set_a_phones_status_and_the_change_is_recorded(
    advisor_api: APIClient, advisor: Person, phone: PersonPhone
) -> None:
    response = advisor_api.patch(
        f"/api/v1/phones/{phone.pk}/", {"sms_status": "disabled"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["sms_status"] == "disabled"
    change = PhoneStatusChange.objects.get(phone=phone)
    assert (change.old_status, change.new_status, change.cause) == ("default", "disabled", "manual")
    assert change.changed_by == advisor.user


def test_staff_mark_a_phone_verified_and_unverified(
    advisor_api: APIClient, advisor: Person, phone: PersonPhone
) -> None:
    response = advisor_api.patch(f"/api/v1/phones/{phone.pk}/", {"verified": True}, format="json")
    assert response.status_code == 200
    assert response.json()["verified"] is True
    assert response.json()["verified_by"] == "advisor"
    phone.refresh_from_db()
    assert phone.verified_by == advisor.user
    assert phone.verified_at is not None
    response = advisor_api.patch(f"/api/v1/phones/{phone.pk}/", {"verified": False}, format="json")
    assert response.json()["verified"] is False
    phone.refresh_from_db()
    assert (phone.verified_at, phone.verified_by) == (None, None)


def test_a_patch_of_the_number_or_type_is_refused_naming_them(
    advisor_api: APIClient, phone: PersonPhone
) -> None:
    factories.PhoneTypeFactory(code="home")
    response = advisor_api.patch(
        f"/api/v1/phones/{phone.pk}/",
        {"number": "+442079460958", "phone_type": "home", "sms_status": "enabled"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "number": [
            "number is read-only: to change a number, DELETE this phone and add the new number "
            "to the person (POST people/{id}/phones/)."
        ],
        "phone_type": [
            "phone_type is read-only: DELETE this phone and add it again with the type."
        ],
    }
    phone.refresh_from_db()
    assert (phone.number, phone.phone_type.code, phone.sms_status) == (
        "+12025550143",
        "cell",
        "default",
    )


@pytest.mark.parametrize("field", ["id", "deleted", "verified_at", "verified_by", "src_system_id"])
def test_every_read_only_phone_field_is_refused_by_name(
    advisor_api: APIClient, phone: PersonPhone, field: str
) -> None:
    response = advisor_api.patch(f"/api/v1/phones/{phone.pk}/", {field: "x"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_deleted_phone_cannot_be_patched(advisor_api: APIClient, phone: PersonPhone) -> None:
    advisor_api.delete(f"/api/v1/phones/{phone.pk}/")
    response = advisor_api.patch(
        f"/api/v1/phones/{phone.pk}/", {"sms_status": "enabled", "verified": True}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Phone {phone.pk} (+12025550143) was deleted and cannot be edited. Add the "
        "number to the person again to use it."
    }
    phone.refresh_from_db()
    assert (phone.sms_status, phone.verified_at) == ("default", None)
    assert not PhoneStatusChange.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"sms_status": "opted_out"}, "sms_status"), ({"verified": "perhaps"}, "verified")],
)
def test_a_bad_phone_patch_is_refused_and_changes_nothing(
    advisor_api: APIClient, phone: PersonPhone, body: dict[str, Any], field: str
) -> None:
    response = advisor_api.patch(f"/api/v1/phones/{phone.pk}/", body, format="json")
    assert response.status_code == 400
    assert response.json()[field]
    phone.refresh_from_db()
    assert (phone.sms_status, phone.verified_at) == ("default", None)
    assert not PhoneStatusChange.objects.exists()


def test_deleting_a_phone_keeps_it_as_a_deleted_record(
    advisor_api: APIClient, phone: PersonPhone
) -> None:
    assert advisor_api.delete(f"/api/v1/phones/{phone.pk}/").status_code == 204
    phone.refresh_from_db()
    assert phone.deleted is True
    listed = advisor_api.get(f"/api/v1/people/{phone.person_id}/phones/").json()
    assert [(p["id"], p["deleted"]) for p in listed] == [(phone.pk, True)]


def test_an_unknown_phone_is_404(advisor_api: APIClient) -> None:
    assert advisor_api.get("/api/v1/phones/999999/").status_code == 404
    assert advisor_api.patch("/api/v1/phones/999999/", {"verified": True}).status_code == 404
    assert advisor_api.delete("/api/v1/phones/999999/").status_code == 404


def test_a_phone_cannot_be_replaced_with_put(advisor_api: APIClient, phone: PersonPhone) -> None:
    assert advisor_api.put(f"/api/v1/phones/{phone.pk}/", {}, format="json").status_code == 405


def test_errors_are_json_with_a_detail_message(anon_api: APIClient, advisor_api: APIClient) -> None:
    response = anon_api.get("/api/v1/phones/1/")
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
    response = advisor_api.get("/api/v1/phones/999999/")
    assert response.json()["detail"]


# system numbers (P4, S8) -----------------------------------------------------------------------


@pytest.fixture
def system_phone(advisor: Person) -> PersonPhone:
    return factories.PhoneFactory(
        person=advisor,
        number="+12015550100",
        phone_type=PhoneType.objects.get(code="SYSTEM"),
        src_system_id="+12015550100.AVISO.SMS",
        phone_type_src_system_id="AVISO.SYSTEM",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"number": "2025550143", "phone_type": "SYSTEM"},
        {"number": "2025550143", "phone_type": "cell", "phone_type_src_system_id": "AVISO.SYSTEM"},
    ],
)
def test_a_system_number_cannot_be_added_as_a_phone(
    advisor_api: APIClient, cell: PhoneType, body: dict[str, str]
) -> None:
    person = factories.staff(role_code="coach")
    response = advisor_api.post(f"/api/v1/people/{person.pk}/phones/", body, format="json")
    assert response.status_code == 400
    assert "sender pool" in str(response.json())
    assert not person.phones.exists()


def test_a_system_number_cannot_be_edited_or_deleted_as_a_phone(
    advisor_api: APIClient, system_phone: PersonPhone
) -> None:
    response = advisor_api.patch(
        f"/api/v1/phones/{system_phone.pk}/", {"sms_status": "disabled"}, format="json"
    )
    assert response.status_code == 400
    assert "sender pool" in response.json()["detail"]
    response = advisor_api.delete(f"/api/v1/phones/{system_phone.pk}/")
    assert response.status_code == 400
    assert "Phone Number Usage" in response.json()["detail"]
    system_phone.refresh_from_db()
    assert (system_phone.sms_status, system_phone.deleted) == ("default", False)


def test_a_system_number_is_listed_and_read_like_any_phone(
    advisor_api: APIClient, system_phone: PersonPhone
) -> None:
    data = advisor_api.get(f"/api/v1/phones/{system_phone.pk}/").json()
    assert (data["phone_type"], data["phone_type_src_system_id"]) == ("SYSTEM", "AVISO.SYSTEM")


def test_a_null_username_unlinks_the_login_but_keeps_the_user(admin_api: APIClient) -> None:
    user = factories.UserFactory(username="alex")
    person = factories.staff(user=user)
    response = admin_api.patch(f"/api/v1/people/{person.pk}/", {"username": None}, format="json")
    assert response.status_code == 200
    assert response.json()["username"] is None
    person.refresh_from_db()
    assert person.user is None
    assert type(user).objects.filter(username="alex").exists()
