"""A JSON body nested deeper than the API accepts answers 400 with a message, on every JSON
endpoint; before the limit, a body nested about 1,000 deep (2 KB) answered 500."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from config.parsers import MAX_DEPTH
from people.models import Person
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.fixture
def phone_id(config: Any, cell: Any) -> int:
    person = factories.student()
    return int(factories.PhoneFactory(person=person, phone_type=cell).id)


def endpoints(phone_id: int) -> list[tuple[str, str]]:
    return [
        ("post", "/api/v1/people/"),
        ("post", "/api/v1/people/import/"),
        ("post", "/api/v1/roles/"),
        ("post", "/api/v1/phone-types/"),
        ("patch", "/api/v1/sms-configuration/"),
        ("patch", f"/api/v1/phones/{phone_id}/"),
        ("post", "/api/v1/messages/"),
        ("post", "/api/v1/messages/bulk/"),
    ]


def send(client: APIClient, method: str, path: str, body: str) -> Any:
    return getattr(client, method)(path, data=body, content_type="application/json")


@pytest.mark.parametrize("body", [arrays(1000), objects(1000), arrays(MAX_DEPTH + 1)])
def test_a_body_nested_too_deep_answers_400_naming_the_limit_on_every_json_endpoint(
    superuser: Any, advisor: Person, phone_id: int, body: str
) -> None:
    superuser.person = advisor  # the superuser may send too, so every endpoint parses the body
    advisor.user = superuser
    advisor.save()
    client = client_for(superuser)
    for method, path in endpoints(phone_id):
        response = send(client, method, path, body)

        assert response.status_code == 400, (path, response.status_code)
        assert response["Content-Type"] == "application/json"
        assert f"more than {MAX_DEPTH} levels" in response.json()["detail"], path


def test_a_deep_value_inside_a_real_field_is_refused_before_validation(superuser: Any) -> None:
    nested = arrays(MAX_DEPTH)  # one more level: the outer object
    body = f'{{"first_name": {nested}, "last_name": "Lee", "roles": ["advisor"]}}'

    response = send(client_for(superuser), "post", "/api/v1/people/", body)

    assert response.status_code == 400
    assert f"more than {MAX_DEPTH} levels" in response.json()["detail"]
    assert not Person.objects.filter(last_name="Lee").exists()


def test_a_body_exactly_at_the_limit_reaches_validation(superuser: Any) -> None:
    body = f'{{"first_name": {arrays(MAX_DEPTH - 1)}, "last_name": "Lee"}}'

    response = send(client_for(superuser), "post", "/api/v1/people/", body)

    assert response.status_code == 400
    assert "levels" not in str(response.json())
    assert "first_name" in response.json()
