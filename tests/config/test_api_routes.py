"""Each app owns its API routes (<app>/api/urls.py), and moving a route between apps changes
nothing an integration sees: every URL name reverses to the same published path, the path is
served by the app that owns it, and every operation keeps its OpenAPI operationId (generated
clients name their methods after it)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import resolve, reverse
from drf_spectacular.generators import SchemaGenerator

# (URL name, kwargs, path, the app whose api/urls.py serves it)
ROUTES: list[tuple[str, dict[str, Any], str, str]] = [
    ("role-list", {}, "/api/v1/roles/", "people"),
    ("phone-type-list", {}, "/api/v1/phone-types/", "people"),
    ("person-list", {}, "/api/v1/people/", "people"),
    ("person-detail", {"pk": 7}, "/api/v1/people/7/", "people"),
    ("people-import", {}, "/api/v1/people/import/", "people"),
    ("person-phones", {"person_id": 7}, "/api/v1/people/7/phones/", "people"),
    ("phone-detail", {"pk": 7}, "/api/v1/phones/7/", "people"),
    ("sms-configuration", {}, "/api/v1/sms-configuration/", "sms_admin"),
    ("phone-usage", {}, "/api/v1/phone-usage/", "sms_admin"),
    ("phone-usage-detail", {"pk": 7}, "/api/v1/phone-usage/7/", "sms_admin"),
    ("sms-usage", {}, "/api/v1/sms-usage/", "sms_admin"),
    ("sender-numbers", {}, "/api/v1/sender-numbers/", "sms_admin"),
    ("sender-number-detail", {"pk": 7}, "/api/v1/sender-numbers/7/", "sms_admin"),
    ("person-sms-route", {"person_id": 7}, "/api/v1/people/7/sms-route/", "messaging"),
    ("messages", {}, "/api/v1/messages/", "messaging"),
    ("messages-bulk", {}, "/api/v1/messages/bulk/", "messaging"),
    ("message-detail", {"pk": 7}, "/api/v1/messages/7/", "messaging"),
    ("conversations", {}, "/api/v1/conversations/", "messaging"),
    (
        "conversation-messages",
        {"person_id": 7},
        "/api/v1/conversations/7/messages/",
        "messaging",
    ),
    ("conversation-read", {"person_id": 7}, "/api/v1/conversations/7/read/", "messaging"),
]

OPERATION_IDS = {
    ("get", "/api/v1/conversations/"): "v1_conversations_list",
    ("get", "/api/v1/conversations/{person_id}/messages/"): "v1_conversations_messages_list",
    ("post", "/api/v1/conversations/{person_id}/read/"): "v1_conversations_read_create",
    ("get", "/api/v1/messages/"): "v1_messages_list",
    ("post", "/api/v1/messages/"): "v1_messages_create",
    ("get", "/api/v1/messages/{id}/"): "v1_messages_retrieve",
    ("post", "/api/v1/messages/bulk/"): "v1_messages_bulk_create",
    ("get", "/api/v1/people/"): "v1_people_list",
    ("post", "/api/v1/people/"): "v1_people_create",
    ("get", "/api/v1/people/{person_id}/phones/"): "v1_people_phones_list",
    ("post", "/api/v1/people/{person_id}/phones/"): "v1_people_phones_create",
    ("get", "/api/v1/people/{person_id}/sms-route/"): "v1_people_sms_route_retrieve",
    ("get", "/api/v1/people/{id}/"): "v1_people_retrieve",
    ("patch", "/api/v1/people/{id}/"): "v1_people_partial_update",
    ("post", "/api/v1/people/import/"): "v1_people_import_create",
    ("get", "/api/v1/phone-types/"): "v1_phone_types_list",
    ("post", "/api/v1/phone-types/"): "v1_phone_types_create",
    ("get", "/api/v1/phone-usage/"): "v1_phone_usage_retrieve",
    ("delete", "/api/v1/phone-usage/{id}/"): "v1_phone_usage_destroy",
    ("get", "/api/v1/phones/{id}/"): "v1_phones_retrieve",
    ("patch", "/api/v1/phones/{id}/"): "v1_phones_partial_update",
    ("delete", "/api/v1/phones/{id}/"): "v1_phones_destroy",
    ("get", "/api/v1/roles/"): "v1_roles_list",
    ("post", "/api/v1/roles/"): "v1_roles_create",
    ("get", "/api/v1/sender-numbers/"): "v1_sender_numbers_list",
    ("post", "/api/v1/sender-numbers/"): "v1_sender_numbers_create",
    ("delete", "/api/v1/sender-numbers/"): "v1_sender_numbers_destroy_by_number",
    ("delete", "/api/v1/sender-numbers/{id}/"): "v1_sender_numbers_destroy",
    ("get", "/api/v1/sms-configuration/"): "v1_sms_configuration_retrieve",
    ("patch", "/api/v1/sms-configuration/"): "v1_sms_configuration_partial_update",
    ("get", "/api/v1/sms-usage/"): "v1_sms_usage_retrieve",
}


@pytest.mark.parametrize(("name", "kwargs", "path", "app"), ROUTES)
def test_an_api_url_name_reverses_to_its_published_path(
    name: str, kwargs: dict[str, Any], path: str, app: str
) -> None:
    assert reverse(name, kwargs=kwargs) == path


@pytest.mark.parametrize(("name", "kwargs", "path", "app"), ROUTES)
def test_an_api_path_is_served_by_the_app_that_owns_it(
    name: str, kwargs: dict[str, Any], path: str, app: str
) -> None:
    match = resolve(path)
    assert match.url_name == name
    assert match.func.cls.__module__.split(".")[:2] == [app, "api"]  # type: ignore[attr-defined]


def test_every_operation_keeps_its_operation_id() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    published = {
        (method, path): operation["operationId"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert {key: published.get(key) for key in OPERATION_IDS} == OPERATION_IDS
