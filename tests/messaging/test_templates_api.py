"""Message templates through the API: administrators keep them, staff who may send read them;
bad names and bodies are refused naming the field, nothing saved."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from messaging.models import MessageTemplate


def test_an_administrator_creates_renames_and_deletes_a_template(
    admin_api: APIClient, config: Any
) -> None:
    created = admin_api.post(
        "/api/v1/templates/",
        {"name": "Registration", "body": "Hi {first_name}, registration opens Monday."},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]

    renamed = admin_api.patch(f"/api/v1/templates/{pk}/", {"name": "Registration 2027"})
    assert renamed.status_code == 200
    assert renamed.json() == {
        "id": pk,
        "name": "Registration 2027",
        "body": "Hi {first_name}, registration opens Monday.",
    }

    assert admin_api.delete(f"/api/v1/templates/{pk}/").status_code == 204
    assert not MessageTemplate.objects.exists()


def test_a_permitted_advisor_reads_the_templates_in_name_order(
    advisor_api: APIClient, config: Any
) -> None:
    MessageTemplate.objects.create(name="Welcome", body="Welcome!")
    MessageTemplate.objects.create(name="Deadline", body="Due Friday.")

    listed = advisor_api.get("/api/v1/templates/")

    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()["results"]] == ["Deadline", "Welcome"]


def test_an_unknown_placeholder_is_refused_at_save_naming_it(
    admin_api: APIClient, config: Any
) -> None:
    answer = admin_api.post(
        "/api/v1/templates/", {"name": "Oops", "body": "Hi {firstname}"}, format="json"
    )

    assert answer.status_code == 400
    assert "{firstname}" in answer.json()["body"][0]
    assert not MessageTemplate.objects.exists()


def test_a_field_with_a_brace_missing_is_refused_at_save(admin_api: Any) -> None:
    answer = admin_api.post(
        "/api/v1/templates/", {"name": "Broken brace", "body": "Hi {first_name"}, format="json"
    )

    assert answer.status_code == 400
    assert "write {first_name}" in answer.json()["body"][0]
    assert not MessageTemplate.objects.exists()


def test_a_taken_name_or_an_empty_body_is_refused_in_words(
    admin_api: APIClient, config: Any
) -> None:
    MessageTemplate.objects.create(name="Welcome", body="Welcome!")

    taken = admin_api.post("/api/v1/templates/", {"name": "Welcome", "body": "Hi"}, format="json")
    empty = admin_api.post("/api/v1/templates/", {"name": "Blank", "body": "  "}, format="json")

    assert taken.status_code == 400
    assert "already exists" in taken.json()["name"][0]
    assert empty.status_code == 400
    assert "empty" in empty.json()["body"][0]
    assert MessageTemplate.objects.count() == 1


def test_an_advisor_may_not_change_a_template(advisor_api: APIClient, config: Any) -> None:
    template = MessageTemplate.objects.create(name="Welcome", body="Welcome!")

    answer = advisor_api.patch(f"/api/v1/templates/{template.pk}/", {"body": "Changed"})

    assert answer.status_code == 403
    assert "Only administrators may change templates" in answer.json()["detail"]
    template.refresh_from_db()
    assert template.body == "Welcome!"
