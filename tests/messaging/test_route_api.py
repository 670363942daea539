"""GET /api/v1/people/{id}/sms-route/: where a text goes and why (R6), staff only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from people.models import Person, PhoneType, SmsStatus
from sms_admin import services as sms_admin_services
from sms_admin.models import DefaultStatus, SmsConfiguration
from tests import factories

pytestmark = pytest.mark.django_db


def url(person_id: int) -> str:
    return f"/api/v1/people/{person_id}/sms-route/"


def test_staff_see_the_chosen_phone_the_rule_and_each_phone_passed_over(
    config: SmsConfiguration, advisor_api: APIClient, cell: PhoneType
) -> None:
    person = factories.student(email="kim@example.edu")
    older = factories.PhoneFactory(
        person=person,
        number="+12025550101",
        sms_status=SmsStatus.ENABLED,
        verified_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    latest = factories.PhoneFactory(
        person=person,
        number="+12025550102",
        sms_status=SmsStatus.ENABLED,
        verified_at=datetime(2024, 5, 1, tzinfo=UTC),
    )
    disabled = factories.PhoneFactory(
        person=person, number="+12025550103", sms_status=SmsStatus.DISABLED
    )

    response = advisor_api.get(url(person.pk))

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("channel", "phone", "number", "email", "rule", "reason")} == {
        "channel": "sms",
        "phone": latest.pk,
        "number": "+12025550102",
        "email": "",
        "rule": "R2",
        "reason": "",
    }
    assert body["explanation"].startswith("Text to +12025550102")
    assert "latest verified date" in body["explanation"]
    assert body["excluded"] == [
        {
            "phone": older.pk,
            "number": "+12025550101",
            "reason": "older verified date (2023-12-31 19:00 EST)",  # institution time
        },
        {"phone": disabled.pk, "number": "+12025550103", "reason": "SMS Disabled"},
    ]


def test_an_opted_out_student_is_routed_to_email_with_the_reason_in_words(
    config: SmsConfiguration, advisor_api: APIClient
) -> None:
    sms_admin_services.configuration_update(actor=None, student_sms_default=DefaultStatus.OPTED_OUT)
    person = factories.student(email="kim@example.edu")
    factories.PhoneFactory(person=person)

    body = advisor_api.get(url(person.pk)).json()

    assert (body["channel"], body["phone"], body["number"], body["email"], body["rule"]) == (
        "email",
        None,
        "",
        "kim@example.edu",
        "R5",
    )
    assert body["reason"] == "NO_SMS_PHONE"
    assert "students are opted out by default" in body["explanation"]


def test_a_person_without_phone_or_email_is_undeliverable(
    config: SmsConfiguration, advisor_api: APIClient
) -> None:
    person = factories.student(email="")

    body = advisor_api.get(url(person.pk)).json()

    assert (body["channel"], body["phone"], body["rule"], body["reason"]) == (
        "none",
        None,
        "R5",
        "NO_EMAIL",
    )
    assert "no email address" in body["explanation"]


def test_an_unknown_person_is_a_404_with_a_message(advisor_api: APIClient) -> None:
    response = advisor_api.get(url(999_999))

    assert response.status_code == 404
    assert response.json()["detail"]


def test_an_administrator_without_a_person_may_read_the_route(
    config: SmsConfiguration, admin_api: APIClient
) -> None:
    person = factories.student()

    assert admin_api.get(url(person.pk)).status_code == 200


def test_a_student_may_not_read_routes(
    config: SmsConfiguration, student_api: APIClient, student_person: Person
) -> None:
    response = student_api.get(url(student_person.pk))

    assert response.status_code == 403
    assert response.json()["detail"] == "Only staff members may do this."


def test_an_anonymous_client_may_not_read_routes(anon_api: APIClient) -> None:
    person = factories.student()

    response = anon_api.get(url(person.pk))

    assert response.status_code in (401, 403)
    assert "channel" not in response.json()


def test_the_route_endpoint_is_read_only(config: SmsConfiguration, advisor_api: APIClient) -> None:
    person = factories.student()

    assert advisor_api.post(url(person.pk), {}).status_code == 405


def test_the_route_is_described_in_the_openapi_schema(admin_api: APIClient) -> None:
    response = admin_api.get("/api/schema/", {"format": "json"})

    operation = response.json()["paths"]["/api/v1/people/{person_id}/sms-route/"]["get"]
    schema_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    fields = response.json()["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]["properties"]
    assert {"channel", "phone", "number", "email", "rule", "explanation", "excluded"} <= set(fields)
