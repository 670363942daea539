"""Odd input to the sending API is answered 400/404 with JSON, never 500."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from messaging.models import Message

pytestmark = pytest.mark.usefixtures("config", "policy")

HUGE = 10**20


@pytest.mark.parametrize(
    "payload",
    [
        {"recipient": HUGE, "body": "Hi"},
        {"recipient": -1, "body": "Hi"},
        {"recipient": 1, "body": ["a", "b"]},
        {"recipient": [1], "body": "Hi"},
        {"recipient": 1, "body": {"text": "Hi"}},
        "not json at all",
    ],
)
def test_malformed_sends_get_400(advisor_api: APIClient, payload: Any) -> None:
    if isinstance(payload, str):
        response = advisor_api.post("/api/v1/messages/", payload, content_type="application/json")
    else:
        response = advisor_api.post("/api/v1/messages/", payload, format="json")
    assert response.status_code == 400
    assert response.json()
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    "path",
    [f"/api/v1/phone-usage/{HUGE}/", f"/api/v1/sender-numbers/{HUGE}/"],
)
def test_deleting_an_out_of_range_id_is_404(admin_api: APIClient, path: str) -> None:
    assert admin_api.delete(path).status_code == 404


@pytest.mark.parametrize(
    "query", [f"sender={HUGE}", f"recipient={HUGE}", "created_after=2026-13-45", "sender=1.5"]
)
def test_out_of_range_report_filters_are_answered_without_a_500(
    admin_api: APIClient, query: str
) -> None:
    response = admin_api.get(f"/api/v1/messages/?{query}")
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["results"] == []


def test_a_report_row_that_does_not_exist_is_404(admin_api: APIClient) -> None:
    assert admin_api.get(f"/api/v1/messages/{HUGE}/").status_code == 404
