"""Every error an operation answers is in the OpenAPI schema, with the body it sends: each
operation of /api/schema/ is called anonymously (401), as a student (403), with an unknown query
parameter (400), an Accept header the API cannot serve (406), an id that does not exist (404,
operations with a path parameter) and a body that is not JSON (415, operations with a body);
the status must be documented and the body must validate against it."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from django.test import Client
from rest_framework.test import APIClient

from messaging.models import MessageTemplate
from people.models import PhoneType
from sms_admin.models import SmsConfiguration
from tests import factories
from tests.config.test_schema_conformance import _resolve
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

MISSING = 999_999


@pytest.fixture
def openapi(client: Client) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/schema/?format=json").json()
    return document


def assert_documented(document: dict[str, Any], template: str, method: str, response: Any) -> None:
    operation = document["paths"][template][method]
    declared = operation["responses"].get(str(response.status_code))
    assert declared is not None, (
        f"{method.upper()} {template} answered {response.status_code}, which its schema does "
        f"not list ({sorted(operation['responses'])}): {response.content[:200]!r}"
    )
    schema = _resolve(declared["content"]["application/json"]["schema"], document)
    assert response["Content-Type"].startswith("application/json")
    jsonschema.validate(response.json(), schema)


def _operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(template, method) for template, ops in document["paths"].items() for method in ops]


def _url(template: str, ids: dict[str, int]) -> str:
    for name, value in ids.items():
        template = template.replace("{" + name + "}", str(value))
    assert "{" not in template, template
    return template


@pytest.fixture
def superuser_api(superuser: Any) -> APIClient:
    """A superuser who is also a staff member (the conversations API reads the caller's own)."""
    factories.staff(user=superuser)
    return client_for(superuser)


@pytest.fixture
def existing(config: SmsConfiguration, cell: PhoneType) -> dict[str, dict[str, int]]:
    """Per resource (the path's first segment), ids that exist: the 415 requests must reach
    the body. A new resource that takes a body by id needs a line here."""
    person = factories.student()
    phone = factories.PhoneFactory(person=person, phone_type=cell)
    template = MessageTemplate.objects.create(name="Welcome", body="Welcome!")
    return {
        "people": {"id": person.pk, "person_id": person.pk},
        "phones": {"id": phone.pk},
        "templates": {"id": template.pk},
    }


def test_anonymous_callers_get_a_documented_401(openapi: dict[str, Any]) -> None:
    for template, method in _operations(openapi):
        url = _url(template, {"id": MISSING, "person_id": MISSING})
        response = APIClient().generic(method.upper(), url)
        assert response.status_code == 401
        assert_documented(openapi, template, method, response)


def test_refused_callers_get_a_documented_403(openapi: dict[str, Any]) -> None:
    student = client_for(factories.student(user=factories.UserFactory()).user)
    for template, method in _operations(openapi):
        url = _url(template, {"id": MISSING, "person_id": MISSING})
        response = student.generic(method.upper(), url)
        assert response.status_code == 403, (method, template)
        assert_documented(openapi, template, method, response)


def test_unknown_query_parameters_get_a_documented_400(
    openapi: dict[str, Any], superuser_api: APIClient
) -> None:
    for template, method in _operations(openapi):
        url = _url(template, {"id": MISSING, "person_id": MISSING})
        response = superuser_api.generic(method.upper(), url + "?nope=1")
        assert response.status_code == 400
        assert_documented(openapi, template, method, response)


def test_an_accept_header_the_api_cannot_serve_gets_a_documented_406(
    openapi: dict[str, Any], superuser_api: APIClient
) -> None:
    for template, method in _operations(openapi):
        url = _url(template, {"id": MISSING, "person_id": MISSING})
        response = superuser_api.generic(method.upper(), url, HTTP_ACCEPT="text/csv")
        assert response.status_code == 406, (method, template)
        assert_documented(openapi, template, method, response)


def test_ids_that_do_not_exist_get_a_documented_404(
    openapi: dict[str, Any], superuser_api: APIClient
) -> None:
    checked = 0
    for template, method in _operations(openapi):
        if "{" not in template:
            continue
        url = _url(template, {"id": MISSING, "person_id": MISSING})
        response = superuser_api.generic(method.upper(), url, "{}", content_type="application/json")
        assert response.status_code == 404, (method, template, response.content[:200])
        assert_documented(openapi, template, method, response)
        checked += 1
    assert checked >= 11


def test_a_body_that_is_not_json_gets_a_documented_415(
    openapi: dict[str, Any], superuser_api: APIClient, existing: dict[str, dict[str, int]]
) -> None:
    checked = 0
    for template, method in _operations(openapi):
        if "requestBody" not in openapi["paths"][template][method]:
            continue
        resource = template.removeprefix("/api/v1/").split("/")[0]
        url = _url(template, existing.get(resource, {}))
        response = superuser_api.generic(method.upper(), url, "x", content_type="text/plain")
        assert response.status_code == 415, (method, template, response.content[:200])
        assert_documented(openapi, template, method, response)
        checked += 1
    assert checked >= 10


def test_a_throttled_caller_gets_a_documented_429(
    openapi: dict[str, Any], superuser_api: APIClient, settings: Any
) -> None:
    settings.API_THROTTLE_RATE = "1/min"
    assert superuser_api.get("/api/v1/roles/").status_code == 200
    response = superuser_api.get("/api/v1/roles/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert_documented(openapi, "/api/v1/roles/", "get", response)


def test_every_operation_documents_throttling(openapi: dict[str, Any]) -> None:
    for template, method in _operations(openapi):
        declared = openapi["paths"][template][method]["responses"]["429"]
        assert "Retry-After" in declared["headers"]
        jsonschema.validate(
            {"detail": "Request was throttled."},
            _resolve(declared, openapi)["content"]["application/json"]["schema"],
        )


def test_the_import_answers_a_documented_400_for_row_errors_and_for_field_errors(
    openapi: dict[str, Any], admin_api: APIClient
) -> None:
    template = "/api/v1/people/import/"
    missing = admin_api.post(template, {}, format="json")
    assert missing.json() == {"people": ["This field is required."]}
    assert_documented(openapi, template, "post", missing)
    unknown_role = admin_api.post(
        template,
        {"people": [{"src_system_id": "S1", "first_name": "A", "last_name": "B", "roles": ["x"]}]},
        format="json",
    )
    assert set(unknown_role.json()) == {"detail", "errors"}
    assert_documented(openapi, template, "post", unknown_role)


def test_a_deleted_phone_answers_a_documented_409(
    openapi: dict[str, Any], advisor_api: APIClient, cell: PhoneType
) -> None:
    phone = factories.PhoneFactory(person=factories.student(), phone_type=cell, deleted=True)
    response = advisor_api.patch(f"/api/v1/phones/{phone.pk}/", {"verified": True}, format="json")
    assert response.status_code == 409
    assert_documented(openapi, "/api/v1/phones/{id}/", "patch", response)


def test_an_idempotency_key_reused_with_another_body_answers_a_documented_422(
    openapi: dict[str, Any], advisor_api: APIClient, config: SmsConfiguration, sandbox: Any
) -> None:
    person = factories.student()
    headers = {"HTTP_IDEMPOTENCY_KEY": "key-1"}
    first = advisor_api.post(
        "/api/v1/messages/", {"recipient": person.pk, "body": "Hi"}, format="json", **headers
    )
    assert first.status_code == 201
    again = advisor_api.post(
        "/api/v1/messages/", {"recipient": person.pk, "body": "Other"}, format="json", **headers
    )
    assert again.status_code == 422
    assert_documented(openapi, "/api/v1/messages/", "post", again)
