"""The OpenAPI schema that integrations read matches what the endpoints really answer: every
successful response of the people, phones and configuration endpoints validates against the
response schema published at /api/schema/ (jsonschema, with OpenAPI's `nullable` translated)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from django.test import Client
from rest_framework.test import APIClient

from people.models import PersonPhone, PhoneType
from sms_admin.models import SmsConfiguration
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi(client: Client) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/schema/?format=json").json()
    return document


def _resolve(node: Any, document: dict[str, Any]) -> Any:
    """Inline $refs and turn OpenAPI 3.0's `nullable: true` into JSON Schema's null type."""
    if isinstance(node, list):
        return [_resolve(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(target, document)
    resolved = {key: _resolve(value, document) for key, value in node.items()}
    if resolved.pop("nullable", False):
        resolved = {"anyOf": [resolved, {"type": "null"}]}
    return resolved


def assert_conforms(document: dict[str, Any], template: str, method: str, response: Any) -> None:
    assert response.status_code < 300, response.content
    operation = document["paths"][template][method.lower()]
    declared = operation["responses"][str(response.status_code)]
    if "content" not in declared:
        assert not response.content
        return
    schema = _resolve(declared["content"]["application/json"]["schema"], document)
    jsonschema.validate(response.json(), schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def phone(cell: PhoneType, advisor: Any) -> PersonPhone:
    person = factories.student()
    return factories.PhoneFactory(
        person=person, phone_type=cell, verified_by=advisor.user, verified_at="2026-01-05T10:00Z"
    )


def test_configuration_responses_match_the_schema(
    openapi: dict[str, Any], superuser_api: APIClient, config: SmsConfiguration
) -> None:
    template = "/api/v1/sms-configuration/"
    assert_conforms(openapi, template, "GET", superuser_api.get(template))
    response = superuser_api.patch(
        template, {"sms_max_length": 160, "default_sms_phone_type": None}, format="json"
    )
    assert_conforms(openapi, template, "PATCH", response)


def test_role_and_phone_type_responses_match_the_schema(
    openapi: dict[str, Any], admin_api: APIClient, config: SmsConfiguration
) -> None:
    for template, body in (
        ("/api/v1/roles/", {"code": "coach", "name": "Coach", "kind": "staff"}),
        ("/api/v1/phone-types/", {"code": "home", "name": "Home"}),
    ):
        assert_conforms(openapi, template, "GET", admin_api.get(template))
        assert_conforms(openapi, template, "POST", admin_api.post(template, body, format="json"))


def test_people_responses_match_the_schema(
    openapi: dict[str, Any], admin_api: APIClient, phone: PersonPhone
) -> None:
    factories.staff(user=factories.UserFactory(username="alex"))
    assert_conforms(openapi, "/api/v1/people/", "GET", admin_api.get("/api/v1/people/"))
    created = admin_api.post(
        "/api/v1/people/",
        {"first_name": "Sam", "last_name": "New", "roles": ["student"], "src_system_id": None},
        format="json",
    )
    assert_conforms(openapi, "/api/v1/people/", "POST", created)
    url = f"/api/v1/people/{phone.person_id}/"
    assert_conforms(openapi, "/api/v1/people/{id}/", "GET", admin_api.get(url))
    patched = admin_api.patch(url, {"username": "sam", "email": ""}, format="json")
    assert_conforms(openapi, "/api/v1/people/{id}/", "PATCH", patched)


def test_phone_responses_match_the_schema(
    openapi: dict[str, Any], advisor_api: APIClient, phone: PersonPhone
) -> None:
    listed = f"/api/v1/people/{phone.person_id}/phones/"
    template = "/api/v1/people/{person_id}/phones/"
    assert_conforms(openapi, template, "GET", advisor_api.get(listed))
    created = advisor_api.post(listed, {"number": "2025550199", "phone_type": "cell"})
    assert_conforms(openapi, template, "POST", created)
    detail = f"/api/v1/phones/{phone.pk}/"
    assert_conforms(openapi, "/api/v1/phones/{id}/", "GET", advisor_api.get(detail))
    patched = advisor_api.patch(detail, {"sms_status": "enabled", "verified": False})
    assert_conforms(openapi, "/api/v1/phones/{id}/", "PATCH", patched)
    assert_conforms(openapi, "/api/v1/phones/{id}/", "DELETE", advisor_api.delete(detail))


def test_send_responses_and_the_idempotency_header_match_the_schema(
    openapi: dict[str, Any], advisor_api: APIClient, config: SmsConfiguration, cell: PhoneType
) -> None:
    person = factories.student()
    factories.PhoneFactory(person=person, phone_type=cell)
    for template, data in (
        ("/api/v1/messages/", {"recipient": person.pk, "body": "Hi"}),
        ("/api/v1/messages/bulk/", {"recipients": [person.pk], "body": "Hi"}),
    ):
        response = advisor_api.post(template, data, format="json")
        assert_conforms(openapi, template, "POST", response)
        parameters = openapi["paths"][template]["post"]["parameters"]
        assert {"name": "Idempotency-Key", "in": "header"}.items() <= parameters[0].items()


def test_analytics_responses_match_the_schema(
    openapi: dict[str, Any], admin_api: APIClient, advisor: Any
) -> None:
    from messaging.models import Channel, Direction, Message, Status

    Message.objects.create(
        direction=Direction.OUTBOUND,
        channel=Channel.SMS,
        status=Status.DELIVERED,
        sender=advisor,
        recipient=factories.student(),
        body="Hi",
    )
    template = "/api/v1/analytics/messages/"
    response = admin_api.get(template)
    assert response.json()["results"]
    assert_conforms(openapi, template, "GET", response)
    row = _resolve(
        openapi["paths"][template]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ],
        openapi,
    )["properties"]["results"]["items"]
    contract = {"staff", "sent", "delivered", "failed", "by_email", "replies", "opt_outs"}
    assert contract <= set(row["required"])
