"""The REST API refuses query strings its OpenAPI schema does not declare (400, naming each
parameter) instead of ignoring them: a typo in a filter name used to list every message. Bad
page numbers are a 400 naming `page`, not DRF's 404 "Invalid page."."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from config import pagination
from messaging.models import Channel, Direction, Message, Status
from people.models import Person
from tests import factories

pytestmark = pytest.mark.django_db

REPORT_FILTERS = (
    "channel, cohort, created_after, created_before, direction, failure_reason, page, recipient, "
    "sender, status"
)


def _message(recipient: Person, channel: str = Channel.SMS) -> Message:
    return Message.objects.create(
        direction=Direction.OUTBOUND,
        recipient=recipient,
        channel=channel,
        destination="+12025550143",
        body="Hello",
        status=Status.SENT,
    )


def test_an_unknown_filter_name_is_refused_naming_it_and_the_known_ones(
    admin_api: APIClient,
) -> None:
    _message(factories.student())
    response = admin_api.get("/api/v1/messages/?date_from=2026-01-01")
    assert response.status_code == 400
    assert response.json() == {"date_from": [f"Unknown query parameter. Known: {REPORT_FILTERS}."]}


def test_empty_filter_values_are_refused_naming_each(admin_api: APIClient) -> None:
    response = admin_api.get("/api/v1/messages/?channel=&status=")
    assert response.status_code == 400
    assert set(response.json()) == {"channel", "status"}
    assert response.json()["channel"] == ["Give a value, or leave the parameter out."]


def test_a_filter_given_twice_is_refused(admin_api: APIClient) -> None:
    response = admin_api.get("/api/v1/messages/?status=sent&status=failed")
    assert response.status_code == 400
    assert response.json() == {"status": ["Give one value (it came 2 times)."]}


def test_declared_filters_and_the_format_override_still_work(admin_api: APIClient) -> None:
    student = factories.student()
    sms = _message(student)
    _message(student, channel=Channel.EMAIL)
    response = admin_api.get("/api/v1/messages/?channel=sms&format=json")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [sms.pk]


def test_an_endpoint_without_query_parameters_says_it_takes_none(admin_api: APIClient) -> None:
    response = admin_api.get("/api/v1/sms-usage/?month=2026-01")
    assert response.status_code == 400
    assert response.json() == {"month": ["Unknown query parameter: this operation takes none."]}


def test_every_operation_of_the_schema_refuses_an_unknown_parameter(
    client: Client, superuser_api: APIClient
) -> None:
    """Whatever the method, and before the view runs (ids need not exist)."""
    document = client.get("/api/schema/?format=json").json()
    checked = 0
    for template, operations in document["paths"].items():
        path = template.replace("{id}", "1").replace("{person_id}", "1")
        assert "{" not in path, template
        for method in operations:
            response = superuser_api.generic(method.upper(), f"{path}?no_such_filter=1")
            assert response.status_code == 400, (method, template, response.content[:200])
            assert list(response.json()) == ["no_such_filter"], (method, template)
            checked += 1
    assert checked >= 28


def test_a_parameter_the_view_reads_is_declared(admin_api: APIClient) -> None:
    """sender-numbers/ DELETE takes the number in the body or as ?number=."""
    factories.SenderNumberFactory(number="+12015550778")
    response = admin_api.delete("/api/v1/sender-numbers/?number=%2B12015550778")
    assert response.status_code == 204


def test_pages_and_webhooks_are_not_checked(admin_user: Any) -> None:
    browser = Client()
    browser.force_login(admin_user)
    assert browser.get("/?q=sam&utm_source=mail").status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=abc", "'abc' is not a page number: use a whole number from 1."),
        ("page=0", "'0' is not a page number: use a whole number from 1."),
        ("page=-1", "'-1' is not a page number: use a whole number from 1."),
        ("page=1.5", "'1.5' is not a page number: use a whole number from 1."),
        ("page=last", "'last' is not a page number: use a whole number from 1."),
        ("page=3", "There is no page 3: the last page is 2."),
        ("page=99999999999999999999", "There is no page 99999999999999999999: the last page is 2."),
    ],
)
def test_a_bad_page_is_a_400_naming_page(
    admin_api: APIClient, monkeypatch: pytest.MonkeyPatch, query: str, message: str
) -> None:
    monkeypatch.setattr(pagination.PageNumberPagination, "page_size", 1)
    factories.student()
    factories.student()
    response = admin_api.get(f"/api/v1/people/?{query}")
    assert response.status_code == 400
    assert response.json() == {"page": [message]}


def test_a_page_given_as_an_object_is_refused_naming_it(admin_api: APIClient) -> None:
    response = admin_api.get("/api/v1/people/?page[x]=1")
    assert response.status_code == 400
    assert list(response.json()) == ["page[x]"]


def test_pages_that_exist_are_served(admin_api: APIClient) -> None:
    assert admin_api.get("/api/v1/messages/?page=1").json()["results"] == []
    student = factories.student()
    assert admin_api.get("/api/v1/people/?page=01").json()["results"][0]["id"] == student.pk


def test_the_schema_says_a_page_is_a_whole_number_from_1(client: Client) -> None:
    document = client.get("/api/schema/?format=json").json()
    (page,) = [
        p for p in document["paths"]["/api/v1/people/"]["get"]["parameters"] if p["name"] == "page"
    ]
    assert page["schema"] == {"type": "integer", "minimum": 1}
