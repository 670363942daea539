"""No input makes the people, phones and configuration endpoints answer 500 (the API: "no 500 for
any input"). Hypothesis writes the requests: the contract's field names with plausible values,
wrong types, huge numbers, odd text and unknown keys; malformed bodies; odd ids and query strings.

Each request runs inside a savepoint that is rolled back, so every example starts from the same
data. The test client re-raises any exception a view lets escape, so an error fails the test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from people.models import Person, PersonPhone, PhoneType
from sms_admin.models import SmsConfiguration
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**31 - 2, max_value=2**63 + 2)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.text(max_size=300)
    | st.sampled_from(["", " ", "\x00", "null", "1e400", "-1", "0", "advisor", "cell", "SYSTEM"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def field(*plausible: Any) -> st.SearchStrategy[Any]:
    """Usually something plausible for the field, often anything at all."""
    return st.sampled_from(plausible) | json_values if plausible else json_values


CODES = field("advisor", "student", "coach", "dean", "Advisor", "two words", ["advisor"], [])
NUMBERS = field(
    "+12025550143", "(202) 555-0199", "+44 20 7946 0958", "12", "hello", "+1" + "9" * 30
)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    # sms-configuration/
    "student_sms_default": field("opted_in", "opted_out", "enabled"),
    "staff_sms_default": field("opted_in", "opted_out"),
    "default_sms_phone_type": field("cell", "home", "SYSTEM", "fax", None),
    "permitted_roles": field(["advisor"], ["student"], ["advisor", "dean"], [], "advisor"),
    "reply_notification_subject": field("{student_name} replied", "{", "{x}", "a\nb"),
    "reply_notification_body": field("{staff_name} {reply_text}", "{0}", "{staff_name!r}", "}"),
    "sms_message_limit": field(0, 10, 2**31, -1, "10"),
    "sms_phone_number_limit": field(0, 5, 2**31, "five"),
    "sms_max_length": field(1, 1600, 1601, 0, "160"),
    "opt_out_scope": field("all_phones", "this_phone", "some"),
    "help_text": field("Reply STOP to stop."),
    "advanced_opt_out": field(True, False, "yes"),
    "reply_window_days": field(30, 0, 2**40),
    "number_quarantine_days": field(30, 0, 365, 366, -1, 2**40, "ten"),
    "sender_segments_per_second": field(1, 0, 1000, 1001, -1, 2**40, "ten"),
    "updated_at": field("2026-01-01T00:00:00Z"),
    # roles/, phone-types/
    "code": field("coach", "cell", "advisor", "SYSTEM", "two words", "x" * 65),
    "name": field("Coach", "", "x" * 129),
    "kind": field("staff", "student", "teacher"),
    # people/
    "id": field(1, -1, 2**63),
    "src_system_id": field("SIS-TAKEN", "SIS-NEW", "", None, "x" * 129),
    "first_name": field("Sam", "", "x" * 129),
    "last_name": field("Student", ""),
    "email": field("sam@example.edu", "not-an-email", ""),
    "roles": CODES,
    "is_student": field(True, False),
    "username": field("alex", "advisor", "no spaces", "x" * 151, "", None),
    # people/{id}/phones/, phones/{id}/
    "number": NUMBERS,
    "phone_type": field("cell", "home", "SYSTEM", "fax", None),
    "sms_status": field("default", "enabled", "disabled", "opted_in"),
    "verified": field(True, False, "true", "maybe"),
    "verified_at": field("2026-01-01T00:00:00Z"),
    "verified_by": field("advisor"),
    "deleted": field(True, False),
    "phone_type_src_system_id": field("AVISO.SYSTEM", "x" * 129),
}
CONFIG_FIELDS = [
    "student_sms_default",
    "staff_sms_default",
    "default_sms_phone_type",
    "permitted_roles",
    "reply_notification_subject",
    "reply_notification_body",
    "sms_message_limit",
    "sms_phone_number_limit",
    "sms_max_length",
    "opt_out_scope",
    "help_text",
    "advanced_opt_out",
    "reply_window_days",
    "number_quarantine_days",
    "sender_segments_per_second",
    "updated_at",
]
PERSON_FIELDS = [
    "id",
    "src_system_id",
    "first_name",
    "last_name",
    "email",
    "roles",
    "is_student",
    "username",
]
PHONE_FIELDS = [
    "id",
    "number",
    "phone_type",
    "sms_status",
    "verified",
    "verified_at",
    "verified_by",
    "deleted",
    "src_system_id",
    "phone_type_src_system_id",
]


def bodies(fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    known = st.fixed_dictionaries({}, optional={name: FIELDS[name] for name in fields})
    extra = st.dictionaries(st.text(max_size=10), json_values, max_size=2)
    return st.builds(lambda a, b: {**b, **a}, known, extra)


@dataclass(frozen=True)
class World:
    person: Person
    phone: PersonPhone
    superuser: Any
    advisor: Any


@pytest.fixture
def world(config: SmsConfiguration, cell: PhoneType) -> World:
    factories.RoleFactory(code="student", kind="student")
    factories.PhoneTypeFactory(code="home")
    factories.PersonFactory(src_system_id="SIS-TAKEN", user=factories.UserFactory(username="alex"))
    person = factories.student()
    phone = factories.PhoneFactory(person=person, phone_type=cell)
    return World(
        person=person,
        phone=phone,
        superuser=factories.UserFactory(username="root", is_staff=True, is_superuser=True),
        advisor=factories.staff(user=factories.UserFactory(username="advisor")).user,
    )


def ids(existing: int) -> st.SearchStrategy[str]:
    return st.sampled_from([str(existing), "0", "999999", str(2**31), str(2**63), "9" * 30])


queries = st.sampled_from(
    [
        "",
        "?page=2",
        "?page=abc",
        "?page=0",
        "?page=99999999999999999999",
        "?format=json",
        "?format=xml",
        "?format=api",
        "?ordering=-id",
        "?limit=x",
    ]
)


def send(api: APIClient, method: str, path: str, body: Any, encoding: str) -> Any:
    if encoding == "raw":
        return api.generic(method, path, body, content_type="application/json")
    if encoding == "form":
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        return api.generic(
            method,
            path,
            "&".join(f"{k}={v}" for k, v in data.items()),
            content_type="application/x-www-form-urlencoded",
        )
    return api.generic(method, path, json.dumps(body), content_type="application/json")


def assert_no_server_error(
    api: APIClient, method: str, path: str, body: Any, encoding: str
) -> None:
    with transaction.atomic():
        response = send(api, method, path, body, encoding)
        transaction.set_rollback(True)
    assert response.status_code < 500, (method, path, body, response.content[:500])
    # Errors are JSON, unless the browsable API was asked for (?format=api).
    if response.status_code >= 400 and "format=api" not in path:
        assert response["Content-Type"].startswith("application/json"), response.content[:200]


raw_bodies = st.sampled_from(
    ['{"number": ', "[]", '"text"', "null", '{"a": NaN}', "\x00", "{}" * 3, "[" * 200]
)
encodings = st.sampled_from(["json", "json", "json", "form"])


@FUZZ
@given(data=st.data())
def test_the_configuration_endpoint_never_answers_500(world: World, data: st.DataObject) -> None:
    api = client_for(world.superuser)
    method = data.draw(st.sampled_from(["GET", "PATCH", "PUT", "POST"]))
    body = data.draw(bodies(CONFIG_FIELDS) | raw_bodies)
    encoding = "raw" if isinstance(body, str) else data.draw(encodings)
    path = "/api/v1/sms-configuration/" + data.draw(queries)
    assert_no_server_error(api, method, path, body, encoding)


@FUZZ
@given(data=st.data())
def test_roles_and_phone_types_never_answer_500(world: World, data: st.DataObject) -> None:
    api = client_for(world.superuser)
    method = data.draw(st.sampled_from(["GET", "POST"]))
    body = data.draw(bodies(["code", "name", "kind"]) | raw_bodies)
    encoding = "raw" if isinstance(body, str) else data.draw(encodings)
    path = data.draw(st.sampled_from(["/api/v1/roles/", "/api/v1/phone-types/"]))
    assert_no_server_error(api, method, path + data.draw(queries), body, encoding)


@FUZZ
@given(data=st.data())
def test_people_never_answer_500(world: World, data: st.DataObject) -> None:
    api = client_for(world.superuser)
    detail = data.draw(st.booleans())
    method = data.draw(st.sampled_from(["GET", "PATCH"] if detail else ["GET", "POST"]))
    body = data.draw(bodies(PERSON_FIELDS) | raw_bodies)
    encoding = "raw" if isinstance(body, str) else data.draw(encodings)
    path = f"/api/v1/people/{data.draw(ids(world.person.pk))}/" if detail else "/api/v1/people/"
    assert_no_server_error(api, method, path + data.draw(queries), body, encoding)


@FUZZ
@given(data=st.data())
def test_phones_never_answer_500(world: World, data: st.DataObject) -> None:
    api = client_for(world.advisor)
    detail = data.draw(st.booleans())
    if detail:
        method = data.draw(st.sampled_from(["GET", "PATCH", "DELETE"]))
        path = f"/api/v1/phones/{data.draw(ids(world.phone.pk))}/"
    else:
        method = data.draw(st.sampled_from(["GET", "POST"]))
        path = f"/api/v1/people/{data.draw(ids(world.person.pk))}/phones/"
    body = data.draw(bodies(PHONE_FIELDS) | raw_bodies)
    encoding = "raw" if isinstance(body, str) else data.draw(encodings)
    assert_no_server_error(api, method, path + data.draw(queries), body, encoding)
