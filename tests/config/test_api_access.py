"""Integrations authenticate with a token from `manage.py drf_create_token`; the OpenAPI 3 schema
and its docs page are served."""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db


def _token_for(username: str) -> str:
    out = StringIO()
    call_command("drf_create_token", username, stdout=out)
    match = re.search(r"\b[0-9a-f]{40}\b", out.getvalue())
    assert match, out.getvalue()
    return match.group()


def test_drf_create_token_gives_a_token_that_authenticates(admin_user: Any) -> None:
    key = _token_for("admin")
    assert Token.objects.get(user=admin_user).key == key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/people/")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_an_integration_token_reaches_people(db: Any) -> None:
    user = factories.UserFactory(username="sis-sync")
    user.groups.add(Group.objects.get_or_create(name="integrations")[0])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {_token_for('sis-sync')}")
    assert api.get("/api/v1/people/").status_code == 200
    assert api.get("/api/v1/sms-configuration/").status_code == 403


def test_a_wrong_token_gets_401_with_a_message(admin_user: Any) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/v1/people/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."
    assert response["WWW-Authenticate"] == "Token"


def test_an_administrator_logged_in_with_a_session_uses_the_api(admin_user: Any) -> None:
    client = Client()
    client.force_login(admin_user)
    assert client.get("/api/v1/roles/").status_code == 200


def test_the_schema_is_openapi_3_and_describes_the_contract(client: Client) -> None:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert {
        "/api/v1/sms-configuration/",
        "/api/v1/roles/",
        "/api/v1/phone-types/",
        "/api/v1/people/",
        "/api/v1/people/{id}/",
        "/api/v1/people/{person_id}/phones/",
        "/api/v1/phones/{id}/",
    } <= paths
    phone = schema["components"]["schemas"]["Phone"]["properties"]
    assert {"number", "phone_type", "sms_status", "verified", "verified_at", "deleted"} <= set(
        phone
    )
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_the_schema_is_served_as_json_when_asked(client: Client) -> None:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_the_schema_generates_without_warnings() -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=StringIO())


def test_the_docs_page_is_served_with_its_scripts_from_this_server(client: Client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/api/schema/" in html
    assert "cdn." not in html


def test_an_unknown_api_path_is_a_json_404(admin_api: APIClient) -> None:
    response = admin_api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "/api/v1/no-such-thing/" in response.json()["detail"]


def test_an_unknown_page_outside_the_api_is_still_html(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_unexpected_api_error_is_a_json_500() -> None:
    from django.test import RequestFactory
    from django.urls import get_resolver

    handler = get_resolver().resolve_error_handler(500)
    response = handler(RequestFactory().get("/api/v1/people/"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["detail"]


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_api_path_is_a_json_404_with_debug_on_too(
    admin_api: APIClient, settings: Any, debug: bool
) -> None:
    """With DEBUG on (`make run`) Django would answer its HTML debug page."""
    settings.DEBUG = debug

    response = admin_api.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "There is no API endpoint at /api/v1/no-such-thing/. See /api/docs/."
    }


def test_with_debug_on_an_unknown_page_outside_the_api_stays_html(
    client: Client, settings: Any
) -> None:
    settings.DEBUG = True

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_with_debug_on_the_apis_own_404_keeps_its_message(
    admin_api: APIClient, settings: Any
) -> None:
    settings.DEBUG = True

    response = admin_api.get("/api/v1/people/999999/")

    assert response.status_code == 404
    assert response.json() == {"detail": "There is no person with id 999999."}


def test_an_api_path_without_its_slash_still_redirects(admin_api: APIClient, settings: Any) -> None:
    settings.DEBUG = True

    response = admin_api.get("/api/v1/people")

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/people/"


def test_with_debug_on_the_browsable_apis_own_404_is_left_alone(
    admin_user: Any, settings: Any
) -> None:
    settings.DEBUG = True
    client = Client()
    client.force_login(admin_user)

    response = client.get("/api/v1/people/999999/", HTTP_ACCEPT="text/html")

    assert response.status_code == 404
    assert "There is no person with id 999999." in response.content.decode()


def test_an_unknown_id_is_named_in_words_not_by_a_model_class(
    admin_api: APIClient, config: Any
) -> None:
    template = admin_api.delete("/api/v1/templates/999/")
    route = admin_api.get("/api/v1/people/999999/sms-route/")

    assert (template.status_code, route.status_code) == (404, 404)
    assert template.json() == {"detail": "There is no message template with id 999."}
    assert route.json() == {"detail": "There is no person with id 999999."}
