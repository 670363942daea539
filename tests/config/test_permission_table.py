"""Who may call what: every operation of the OpenAPI schema against every kind of caller, each
with a real token. The table names, per operation, the callers it is for; everyone else is
refused with a message (401 without credentials, 403 otherwise), and the callers it is for get
the operation's success answer for a valid request. An operation added to the API without a row
here fails `test_every_operation_of_the_schema_has_a_row`: decide who may call it first.

Rows are keyed by method and URL (the schema's path template), never by view class."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from messaging.models import Channel, Direction, Message, MessageTemplate, Status
from people import services as people_services
from people.models import Person, PersonPhone, PhoneType, SmsStatus, StatusCause
from sms_admin.models import SenderNumber, SmsConfiguration
from tests import factories
from tests.factories import assignments

pytestmark = pytest.mark.django_db

CALLERS = (
    "anonymous",
    "student",
    "staff_not_permitted",  # staff (a person who is not a student) without a permitted role
    "permitted_staff",
    "integration",
    "administrator",
    "superuser",
)
ADMIN = frozenset({"administrator", "superuser"})
STAFF = frozenset({"staff_not_permitted", "permitted_staff"}) | ADMIN
ADMIN_OR_INTEGRATION = ADMIN | {"integration"}
STAFF_OR_INTEGRATION = STAFF | {"integration"}
PERMITTED_STAFF = frozenset({"permitted_staff"})
LINKED_STAFF = frozenset({"staff_not_permitted", "permitted_staff"})  # staff with a person


class World:
    """One of each caller (with a token), a student to act on, and the configuration."""

    def __init__(self, config: SmsConfiguration, cell: PhoneType) -> None:
        self.cell = cell
        integration = factories.UserFactory(username="sis-sync")
        integration.groups.add(Group.objects.get_or_create(name="integrations")[0])
        self.users: dict[str, Any] = {
            "student": factories.student(user=factories.UserFactory(username="pupil")).user,
            "staff_not_permitted": factories.staff(
                "faculty", user=factories.UserFactory(username="faculty")
            ).user,
            "permitted_staff": factories.staff(user=factories.UserFactory(username="advisor")).user,
            "integration": integration,
            "administrator": factories.UserFactory(username="admin", is_staff=True),
            "superuser": factories.UserFactory(username="root", is_staff=True, is_superuser=True),
        }
        self.target: Person = factories.student(email="target@example.edu")
        self.phone: PersonPhone = factories.PhoneFactory(
            person=self.target, number="+12025550143", phone_type=cell
        )

    def client(self, caller: str) -> APIClient:
        api = APIClient()
        if caller != "anonymous":
            token = Token.objects.create(user=self.users[caller])
            api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api

    def message(self) -> Message:
        return Message.objects.create(
            direction=Direction.OUTBOUND,
            recipient=self.target,
            channel=Channel.SMS,
            destination=self.phone.number,
            body="Hello",
            status=Status.SENT,
        )

    def opted_out_phone(self) -> PersonPhone:
        people_services.phone_status_set(
            phone=self.phone, status=SmsStatus.DISABLED, cause=StatusCause.OPT_OUT
        )
        return self.phone

    def template(self) -> MessageTemplate:
        return MessageTemplate.objects.get_or_create(name="Reminder", defaults={"body": "Hi"})[0]

    def free_number(self) -> SenderNumber:
        return factories.SenderNumberFactory(number="+12015550177")


Request = Callable[[World], tuple[str, dict[str, Any] | None]]


@dataclass(frozen=True)
class Row:
    callers: frozenset[str]
    request: Request
    success: int


def _person(path: str) -> Request:
    return lambda w: (path.format(person=w.target.pk, phone=w.phone.pk), None)


TABLE: dict[tuple[str, str], Row] = {
    # The SMS configuration: administrators.
    ("GET", "/api/v1/sms-configuration/"): Row(
        ADMIN, lambda w: ("/api/v1/sms-configuration/", None), 200
    ),
    ("PATCH", "/api/v1/sms-configuration/"): Row(
        ADMIN, lambda w: ("/api/v1/sms-configuration/", {"sms_max_length": 500}), 200
    ),
    # Roles and phone types: staff and integrations read (adding a phone needs a type code),
    # administrators create.
    ("GET", "/api/v1/roles/"): Row(STAFF_OR_INTEGRATION, lambda w: ("/api/v1/roles/", None), 200),
    ("POST", "/api/v1/roles/"): Row(
        ADMIN,
        lambda w: ("/api/v1/roles/", {"code": "coach", "name": "Coach", "kind": "staff"}),
        201,
    ),
    ("GET", "/api/v1/phone-types/"): Row(
        STAFF_OR_INTEGRATION, lambda w: ("/api/v1/phone-types/", None), 200
    ),
    ("POST", "/api/v1/phone-types/"): Row(
        ADMIN, lambda w: ("/api/v1/phone-types/", {"code": "home", "name": "Home"}), 201
    ),
    # People: administrators and integrations (logins and permitted roles: administrators only,
    # tests/people/test_access_grants.py).
    ("GET", "/api/v1/people/"): Row(ADMIN_OR_INTEGRATION, _person("/api/v1/people/"), 200),
    ("POST", "/api/v1/people/"): Row(
        ADMIN_OR_INTEGRATION,
        lambda w: ("/api/v1/people/", {"first_name": "Noa", "last_name": "Ng", "roles": []}),
        201,
    ),
    ("GET", "/api/v1/people/{id}/"): Row(
        ADMIN_OR_INTEGRATION, _person("/api/v1/people/{person}/"), 200
    ),
    ("PATCH", "/api/v1/people/{id}/"): Row(
        ADMIN_OR_INTEGRATION,
        lambda w: (f"/api/v1/people/{w.target.pk}/", {"first_name": "Renamed"}),
        200,
    ),
    ("POST", "/api/v1/people/import/"): Row(
        ADMIN_OR_INTEGRATION,
        lambda w: (
            "/api/v1/people/import/",
            {
                "people": [
                    {
                        "src_system_id": "S-NEW",
                        "first_name": "Ana",
                        "last_name": "Lopez",
                        "roles": ["student"],
                    }
                ]
            },
        ),
        200,
    ),
    # Phones and routing: staff.
    ("GET", "/api/v1/people/{person_id}/phones/"): Row(
        STAFF, _person("/api/v1/people/{person}/phones/"), 200
    ),
    ("POST", "/api/v1/people/{person_id}/phones/"): Row(
        STAFF,
        lambda w: (
            f"/api/v1/people/{w.target.pk}/phones/",
            {"number": "+12025550199", "phone_type": "cell"},
        ),
        201,
    ),
    ("GET", "/api/v1/phones/{id}/"): Row(STAFF, _person("/api/v1/phones/{phone}/"), 200),
    ("PATCH", "/api/v1/phones/{id}/"): Row(
        STAFF, lambda w: (f"/api/v1/phones/{w.phone.pk}/", {"verified": True}), 200
    ),
    ("DELETE", "/api/v1/phones/{id}/"): Row(STAFF, _person("/api/v1/phones/{phone}/"), 204),
    ("GET", "/api/v1/people/{person_id}/sms-route/"): Row(
        STAFF, _person("/api/v1/people/{person}/sms-route/"), 200
    ),
    # Sending: staff holding a permitted role (an administrator without one may not send).
    ("POST", "/api/v1/messages/"): Row(
        PERMITTED_STAFF,
        lambda w: ("/api/v1/messages/", {"recipient": w.target.pk, "body": "Hello"}),
        201,
    ),
    ("POST", "/api/v1/messages/bulk/"): Row(
        PERMITTED_STAFF,
        lambda w: ("/api/v1/messages/bulk/", {"recipients": [w.target.pk], "body": "Hello"}),
        201,
    ),
    # The Message Report: administrators.
    ("GET", "/api/v1/messages/"): Row(ADMIN, lambda w: ("/api/v1/messages/", None), 200),
    ("GET", "/api/v1/messages/{id}/"): Row(
        ADMIN, lambda w: (f"/api/v1/messages/{w.message().pk}/", None), 200
    ),
    # Usage: administrators and integrations read; administrators un-assign and keep the pool.
    ("GET", "/api/v1/phone-usage/"): Row(
        ADMIN_OR_INTEGRATION, lambda w: ("/api/v1/phone-usage/", None), 200
    ),
    ("DELETE", "/api/v1/phone-usage/{id}/"): Row(
        ADMIN, lambda w: (f"/api/v1/phone-usage/{assignments.assignment().pk}/", None), 204
    ),
    ("GET", "/api/v1/sms-usage/"): Row(
        ADMIN_OR_INTEGRATION, lambda w: ("/api/v1/sms-usage/", None), 200
    ),
    # Analytics per month and staff member: administrators.
    ("GET", "/api/v1/analytics/messages/"): Row(
        ADMIN, lambda w: ("/api/v1/analytics/messages/", None), 200
    ),
    ("GET", "/api/v1/sender-numbers/"): Row(
        ADMIN, lambda w: ("/api/v1/sender-numbers/", None), 200
    ),
    ("POST", "/api/v1/sender-numbers/"): Row(
        ADMIN, lambda w: ("/api/v1/sender-numbers/", {"number": "+12015550188"}), 201
    ),
    ("DELETE", "/api/v1/sender-numbers/"): Row(
        ADMIN, lambda w: ("/api/v1/sender-numbers/", {"number": w.free_number().number}), 204
    ),
    ("DELETE", "/api/v1/sender-numbers/{id}/"): Row(
        ADMIN, lambda w: (f"/api/v1/sender-numbers/{w.free_number().pk}/", None), 204
    ),
    # The inbox: staff linked to a person read their own conversations (the administrators here
    # have no person: they read the shared inbox, a variant below is the staff's own).
    ("GET", "/api/v1/conversations/"): Row(
        ADMIN, lambda w: ("/api/v1/conversations/?unassigned=true", None), 200
    ),
    ("GET", "/api/v1/conversations/{person_id}/messages/"): Row(
        LINKED_STAFF, _person("/api/v1/conversations/{person}/messages/"), 200
    ),
    ("POST", "/api/v1/conversations/{person_id}/read/"): Row(
        LINKED_STAFF, _person("/api/v1/conversations/{person}/read/"), 204
    ),
    # Message templates: administrators keep them; staff who may send texts read them.
    ("GET", "/api/v1/templates/"): Row(
        ADMIN | PERMITTED_STAFF, lambda w: ("/api/v1/templates/", None), 200
    ),
    ("GET", "/api/v1/templates/{id}/"): Row(
        ADMIN | PERMITTED_STAFF, lambda w: (f"/api/v1/templates/{w.template().pk}/", None), 200
    ),
    ("POST", "/api/v1/templates/"): Row(
        ADMIN, lambda w: ("/api/v1/templates/", {"name": "Welcome", "body": "Hi"}), 201
    ),
    ("PATCH", "/api/v1/templates/{id}/"): Row(
        ADMIN, lambda w: (f"/api/v1/templates/{w.template().pk}/", {"body": "Hello"}), 200
    ),
    ("DELETE", "/api/v1/templates/{id}/"): Row(
        ADMIN, lambda w: (f"/api/v1/templates/{w.template().pk}/", None), 204
    ),
}


# Requests to the same operations that only some of its callers may make.
VARIANTS: dict[tuple[str, str, str], Row] = {
    ("GET", "/api/v1/conversations/", "the caller's own inbox"): Row(
        LINKED_STAFF, lambda w: ("/api/v1/conversations/", None), 200
    ),
    ("POST", "/api/v1/people/", "with a login and a permitted role"): Row(
        ADMIN,
        lambda w: (
            "/api/v1/people/",
            {"first_name": "Noa", "last_name": "Ng", "roles": ["advisor"], "username": "noa"},
        ),
        201,
    ),
    ("PATCH", "/api/v1/people/{id}/", "unlinking a login"): Row(
        ADMIN,
        lambda w: (
            f"/api/v1/people/{factories.staff(user=factories.UserFactory()).pk}/",
            {"username": None},
        ),
        200,
    ),
    ("POST", "/api/v1/people/import/", "giving a permitted role"): Row(
        ADMIN,
        lambda w: (
            "/api/v1/people/import/",
            {
                "people": [
                    {
                        "src_system_id": "S-NEW",
                        "first_name": "Ana",
                        "last_name": "Lopez",
                        "roles": ["advisor"],
                    }
                ]
            },
        ),
        200,
    ),
    ("PATCH", "/api/v1/phones/{id}/", "lifting the person's own opt-out"): Row(
        ADMIN,
        lambda w: (
            f"/api/v1/phones/{w.opted_out_phone().pk}/",
            {"sms_status": "enabled", "reason": "Asked at the front desk."},
        ),
        200,
    ),
}


def _schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_operation_of_the_schema_has_a_row() -> None:
    operations = _schema_operations()
    assert sorted(operations - set(TABLE)) == [], "add a row for each new operation"
    assert sorted(set(TABLE) - operations) == [], "remove the rows of operations that are gone"


@pytest.fixture
def world(config: SmsConfiguration, cell: PhoneType) -> World:
    factories.RoleFactory(code="student", kind="student")
    return World(config, cell)


ROWS = {**{(m, p, ""): row for (m, p), row in TABLE.items()}, **VARIANTS}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path", "variant"), sorted(ROWS))
def test_each_caller_gets_the_answer_the_table_says(
    world: World, method: str, path: str, variant: str, caller: str
) -> None:
    row = ROWS[(method, path, variant)]
    url, body = row.request(world)
    response = getattr(world.client(caller), method.lower())(url, body, format="json")
    if caller in row.callers:
        assert response.status_code == row.success, response.content
        return
    assert response.status_code == (401 if caller == "anonymous" else 403), response.content
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    if caller == "anonymous":
        assert response["WWW-Authenticate"] == "Token"
