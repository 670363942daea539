"""The REST inbox (V1, V3): `conversations/`, `conversations/{person}/messages/` and
`conversations/{person}/read/`; staff see only their own; bad input is a 4xx with a message;
every answer matches the published schema."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from messaging.models import Message
from people.models import Person
from tests import factories
from tests.config.test_schema_conformance import assert_conforms
from tests.conftest import client_for
from tests.messaging.inbox_support import at, received, sent

pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi(client: Client) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/schema/?format=json").json()
    return document


@pytest.fixture
def alex() -> Person:
    return factories.staff(first_name="Alex", last_name="Advisor", user=factories.UserFactory())


@pytest.fixture
def blair() -> Person:
    return factories.staff(first_name="Blair", last_name="Bursar", user=factories.UserFactory())


@pytest.fixture
def sam(alex: Person) -> Person:
    sam = factories.student(first_name="Sam", last_name="Rivera")
    sent(alex, sam, "Can we meet Tuesday?", when=at(60))
    received(sam, alex, "Yes, 10am works.", when=at(30))
    return sam


def api(person: Person) -> APIClient:
    return client_for(person.user)


def test_a_staff_member_lists_their_conversations(
    alex: Person, blair: Person, sam: Person, openapi: dict[str, Any]
) -> None:
    tia = factories.student(first_name="Tia", last_name="Turner")
    received(tia, blair, "for Blair")

    answer = api(alex).get("/api/v1/conversations/")

    assert_conforms(openapi, "/api/v1/conversations/", "get", answer)
    assert answer.json()["count"] == 1
    (row,) = answer.json()["results"]
    assert row["person"] == sam.pk
    assert row["person_name"] == "Sam Rivera"
    assert row["last_message_excerpt"] == "Yes, 10am works."
    assert (row["unread"], row["needs_reply"], row["opted_out"]) == (1, True, False)
    assert row["waiting_since"] is not None


def test_filters_unread_and_needs_reply(alex: Person, sam: Person) -> None:
    tia = factories.student()
    received(tia, alex, "question", when=at(20), read_at=at(19))
    ben = factories.student()
    received(ben, alex, "thanks", when=at(15))
    sent(alex, ben, "welcome", when=at(10))

    def people(query: str) -> set[int]:
        return {
            r["person"] for r in api(alex).get(f"/api/v1/conversations/?{query}").json()["results"]
        }

    assert people("unread=true") == {sam.pk, ben.pk}
    assert people("needs_reply=true") == {sam.pk, tia.pk}
    assert people("unread=true&needs_reply=true") == {sam.pk}
    assert people("unread=false") == {sam.pk, tia.pk, ben.pk}


def test_a_filter_that_is_not_true_or_false_is_a_400(alex: Person) -> None:
    answer = api(alex).get("/api/v1/conversations/?unread=maybe")

    assert answer.status_code == 400
    assert answer.json() == {"unread": ['"maybe" is not true or false.']}


def test_an_administrator_reads_a_staff_members_or_the_shared_inbox(
    alex: Person, sam: Person, admin_api: APIClient
) -> None:
    stranger = factories.student()
    received(stranger, None, "who is this?")

    staff = admin_api.get(f"/api/v1/conversations/?staff={alex.pk}").json()["results"]
    shared = admin_api.get("/api/v1/conversations/?unassigned=true").json()["results"]

    assert [r["person"] for r in staff] == [sam.pk]
    assert [r["person"] for r in shared] == [stranger.pk]


def test_staff_may_not_read_another_staff_members_inbox(alex: Person, blair: Person) -> None:
    for query in (f"staff={alex.pk}", "unassigned=true"):
        answer = api(blair).get(f"/api/v1/conversations/?{query}")
        assert answer.status_code == 403
        assert "Only administrators may read another staff member's" in answer.json()["detail"]


def test_an_administrator_without_a_person_is_told_how_to_ask(admin_api: APIClient) -> None:
    answer = admin_api.get("/api/v1/conversations/")

    assert answer.status_code == 403
    assert "unassigned=true or staff=ID" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("query", "status", "body"),
    [
        ("staff=abc", 400, {"staff": ["A staff member's person id."]}),
        ("staff=999999", 404, {"detail": "No person with id 999999."}),
        ("staff=1&unassigned=true", 400, {"detail": "Give staff or unassigned=true, not both."}),
    ],
)
def test_bad_administrator_parameters(
    admin_api: APIClient, query: str, status: int, body: dict[str, Any]
) -> None:
    answer = admin_api.get(f"/api/v1/conversations/?{query}")
    assert (answer.status_code, answer.json()) == (status, body)


def test_a_students_and_an_anonymous_request_are_refused(
    student_api: APIClient, anon_api: APIClient
) -> None:
    assert student_api.get("/api/v1/conversations/").status_code == 403
    assert anon_api.get("/api/v1/conversations/").status_code in (401, 403)


def test_the_messages_of_a_conversation_oldest_first(
    alex: Person, sam: Person, openapi: dict[str, Any]
) -> None:
    path = f"/api/v1/conversations/{sam.pk}/messages/"
    answer = api(alex).get(path)

    assert_conforms(openapi, "/api/v1/conversations/{person_id}/messages/", "get", answer)
    assert [m["body"] for m in answer.json()["results"]] == [
        "Can we meet Tuesday?",
        "Yes, 10am works.",
    ]


def test_another_staff_members_conversation_is_the_callers_own_empty_one(
    blair: Person, sam: Person
) -> None:
    answer = api(blair).get(f"/api/v1/conversations/{sam.pk}/messages/")

    assert answer.status_code == 200
    assert answer.json()["count"] == 0


def test_a_person_who_does_not_exist_is_a_404_with_a_message(alex: Person) -> None:
    for answer in (
        api(alex).get("/api/v1/conversations/999999/messages/"),
        api(alex).post("/api/v1/conversations/999999/read/"),
    ):
        assert answer.status_code == 404
        assert answer.json() == {"detail": "No person with id 999999."}


def test_read_marks_the_callers_conversation_read_and_is_idempotent(
    alex: Person, blair: Person, sam: Person, openapi: dict[str, Any]
) -> None:
    blairs = received(sam, blair, "for Blair")

    first = api(alex).post(f"/api/v1/conversations/{sam.pk}/read/")
    again = api(alex).post(f"/api/v1/conversations/{sam.pk}/read/")

    assert_conforms(openapi, "/api/v1/conversations/{person_id}/read/", "post", first)
    assert first.status_code == again.status_code == 204
    assert not Message.objects.filter(attributed_to=alex, read_at__isnull=True).exists()
    assert Message.objects.get(pk=blairs.pk).read_at is None


def test_read_of_a_conversation_with_nothing_unread_is_204(blair: Person, sam: Person) -> None:
    assert api(blair).post(f"/api/v1/conversations/{sam.pk}/read/").status_code == 204


def test_an_administrator_marks_a_shared_conversation_read_but_not_a_staff_members(
    alex: Person, sam: Person, admin_api: APIClient
) -> None:
    stranger = factories.student()
    text = received(stranger, None, "who is this?")

    shared = admin_api.post(f"/api/v1/conversations/{stranger.pk}/read/?unassigned=true")
    staff = admin_api.post(f"/api/v1/conversations/{sam.pk}/read/?staff={alex.pk}")

    assert shared.status_code == 204
    assert Message.objects.get(pk=text.pk).read_at is not None
    assert staff.status_code == 400
    assert Message.objects.filter(attributed_to=alex, read_at__isnull=True).count() == 1
