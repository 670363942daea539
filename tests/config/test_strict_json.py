"""JSON bodies are held to the types the OpenAPI schema publishes (config.serializers.StrictJSON):
DRF alone read `{"body": 0}` as the text "0" and `{"verified": "no"}` as false. Form posts, where
every value is text, are read as before. Django's own request limits answer JSON 400s."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from config.serializers import StrictJSON
from messaging.models import Message
from people.models import PersonPhone, PhoneType
from sms_admin.models import SmsConfiguration
from tests import factories
from tests.config.test_schema_enums import _project_serializers
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_every_serializer_the_schema_takes_as_a_request_body_is_strict(client: Client) -> None:
    document = client.get("/api/schema/?format=json").json()
    by_name = {cls.__name__: cls for cls in _project_serializers()}
    requests = [
        name.removeprefix("Patched").removesuffix("Request") + "Serializer"
        for name in document["components"]["schemas"]
        if name.endswith("Request")
    ]
    assert len(requests) >= 10
    for name in requests:
        assert issubclass(by_name[name], StrictJSON), f"{name} should inherit StrictJSON"


def test_request_bodies_are_documented_as_json(client: Client) -> None:
    """Form posts are read (as text) but are not the contract: the schema names JSON only."""
    document = client.get("/api/schema/?format=json").json()
    media = {
        media_type
        for operations in document["paths"].values()
        for operation in operations.values()
        for media_type in operation.get("requestBody", {}).get("content", {})
    }
    assert media == {"application/json"}


def test_a_number_for_a_text_is_refused_and_nothing_is_sent(
    advisor_api: APIClient, config: SmsConfiguration
) -> None:
    person = factories.student()
    response = advisor_api.post(
        "/api/v1/messages/", {"recipient": person.pk, "body": 0}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"body": ["Must be a JSON string (got number)."]}
    assert not Message.objects.exists()


def test_text_for_a_boolean_is_refused_in_json_and_read_in_a_form(
    advisor_api: APIClient, cell: PhoneType
) -> None:
    phone = factories.PhoneFactory(person=factories.student(), phone_type=cell)
    url = f"/api/v1/phones/{phone.pk}/"
    refused = advisor_api.patch(url, {"verified": "true"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"verified": ["Must be a JSON boolean (got string)."]}
    phone.refresh_from_db()
    assert phone.verified_at is None
    assert advisor_api.patch(url, {"verified": "true"}, format="multipart").status_code == 200
    phone.refresh_from_db()
    assert phone.verified_at is not None


def test_the_other_fields_errors_come_with_the_type_errors(
    advisor_api: APIClient, config: SmsConfiguration
) -> None:
    response = advisor_api.post("/api/v1/messages/", {"recipient": "7"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "recipient": ["Must be a JSON number (got string)."],
        "body": ["This field is required."],
    }


def test_text_for_a_number_is_refused(superuser_api: APIClient, config: SmsConfiguration) -> None:
    response = superuser_api.patch(
        "/api/v1/sms-configuration/", {"sms_max_length": "160"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"sms_max_length": ["Must be a JSON number (got string)."]}


def test_an_object_for_a_list_is_refused(
    superuser_api: APIClient, config: SmsConfiguration
) -> None:
    """DRF alone read {} as an empty list of permitted roles: nobody could send any more."""
    response = superuser_api.patch(
        "/api/v1/sms-configuration/", {"permitted_roles": {}}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "permitted_roles": ["Must be a JSON array, a list of items (got object)."]
    }
    assert SmsConfiguration.objects.get().permitted_roles.exists()


def test_an_empty_code_for_none_is_refused_in_json(
    superuser_api: APIClient, config: SmsConfiguration
) -> None:
    """DRF alone read "" as null: the default SMS phone type was cleared by an empty string."""
    url = "/api/v1/sms-configuration/"
    response = superuser_api.patch(url, {"default_sms_phone_type": ""}, format="json")
    assert response.status_code == 400
    assert response.json() == {"default_sms_phone_type": ["Must not be empty: use null for none."]}
    assert SmsConfiguration.objects.get().default_sms_phone_type is not None
    cleared = superuser_api.patch(url, {"default_sms_phone_type": None}, format="json")
    assert cleared.status_code == 200


def test_nested_lists_are_checked_item_by_item(admin_api: APIClient) -> None:
    person = {"src_system_id": "S1", "first_name": "A", "last_name": "B", "roles": ["x", 7]}
    response = admin_api.post("/api/v1/people/import/", {"people": [person]}, format="json")
    assert response.status_code == 400
    message = "Must be a JSON string (got number)."
    assert response.json() == {"people": {"0": {"roles": {"1": [message]}}}}


def test_a_boolean_is_not_a_number(advisor_api: APIClient, config: SmsConfiguration) -> None:
    response = advisor_api.post(
        "/api/v1/messages/bulk/", {"recipients": [True], "body": "Hi"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"recipients": {"0": ["Must be a JSON number (got boolean)."]}}


def test_someone_who_may_not_send_hears_that_before_any_type_error(
    student_api: APIClient,
) -> None:
    response = student_api.post("/api/v1/messages/", {"recipient": "x", "body": 0}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("encoding", ["json", "multipart"])
def test_an_empty_username_unlinks_the_login_like_null(
    admin_api: APIClient, config: SmsConfiguration, encoding: str
) -> None:
    person = factories.staff(user=factories.UserFactory(username="adv"))
    response = admin_api.patch(f"/api/v1/people/{person.pk}/", {"username": ""}, format=encoding)
    assert response.status_code == 200, response.content
    assert response.json()["username"] is None
    person.refresh_from_db()
    assert person.user is None


def test_an_integration_cannot_unlink_with_an_empty_username_either(
    config: SmsConfiguration, admin_user: Any
) -> None:
    integration = factories.UserFactory(username="sis-sync")
    integration.groups.add(Group.objects.get_or_create(name="integrations")[0])
    person = factories.staff(user=admin_user)
    response = client_for(integration).patch(
        f"/api/v1/people/{person.pk}/", {"username": ""}, format="json"
    )
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.user == admin_user


def test_too_many_form_fields_is_a_json_400(advisor_api: APIClient, cell: PhoneType) -> None:
    phone = factories.PhoneFactory(person=factories.student(), phone_type=cell)
    body = "&".join(f"f{i}=1" for i in range(1001))
    response = advisor_api.generic(
        "PATCH", f"/api/v1/phones/{phone.pk}/", body, "application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "more than 1000 fields" in response.json()["detail"]
    assert PersonPhone.objects.get(pk=phone.pk).verified_at is None


def test_too_many_query_parameters_is_a_json_400(admin_api: APIClient) -> None:
    query = "&".join(f"f{i}=1" for i in range(1001))
    response = admin_api.get(f"/api/v1/people/?{query}")
    assert response.status_code == 400
    assert "more than 1000 fields or query parameters" in response.json()["detail"]


def test_a_json_body_over_the_size_limit_is_told_to_split_not_to_be_sent_as_json(
    advisor_api: APIClient, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    body = '{"recipients": [' + ", ".join(str(i) for i in range(1, 400)) + '], "body": "Hi"}'

    response = advisor_api.generic("POST", "/api/v1/messages/bulk/", body, "application/json")

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "The request body is larger than 1,000 bytes; split it into smaller requests "
        "(the largest cohort one request takes, 10,000 ids, is far smaller)."
    )
    assert not Message.objects.exists()
