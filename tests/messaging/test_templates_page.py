"""The administrators' template page with Django's client: who may open it, a refusal lands at
its field with nothing saved, delete."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from messaging.models import MessageTemplate


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_administrators_open_the_template_page(advisor: Any, admin_user: Any) -> None:
    assert login(advisor.user).get(reverse("message-templates")).status_code == 403
    assert login(admin_user).get(reverse("message-templates")).status_code == 200


def test_a_bad_template_is_shown_again_with_the_reason_and_nothing_saved(
    admin_user: Any, config: Any
) -> None:
    answer = login(admin_user).post(
        reverse("message-templates"), {"name": "Oops", "body": "Hi {frist_name}"}
    )

    assert answer.status_code == 400
    assert "Unknown placeholder {frist_name}" in answer.content.decode()
    assert not MessageTemplate.objects.exists()


def test_an_administrator_deletes_a_template(admin_user: Any, config: Any) -> None:
    template = MessageTemplate.objects.create(name="Old", body="Old news")

    answer = login(admin_user).post(reverse("message-template-delete", args=[template.pk]))

    assert answer.status_code == 302
    assert not MessageTemplate.objects.exists()
