"""API tokens are read with their user and the user's person in one compiled query; the answers
are DRF's: an unknown token or an inactive user is a 401, a login linked to no person may not
send (403 saying so)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.authentication import token_with_user
from people.models import Person
from tests import factories


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_token_comes_with_its_user_and_person_in_one_query(advisor: Person) -> None:
    key = Token.objects.create(user=advisor.user).key

    with CaptureQueriesContext(connection) as ctx:
        token = token_with_user(key)
        assert token is not None
        user = token.user
        person = user.person

    assert len(ctx.captured_queries) == 1
    assert (token.key, user.pk, person.pk) == (key, advisor.user.pk, advisor.pk)
    assert person.user is user and person.first_name == advisor.first_name
    assert token_with_user(key + "x") is None


def test_a_user_linked_to_no_person_has_none_and_may_not_send(db: Any) -> None:
    user = factories.UserFactory()
    key = Token.objects.create(user=user).key
    token = token_with_user(key)
    assert token is not None

    with CaptureQueriesContext(connection) as ctx:
        assert getattr(token.user, "person", None) is None
    assert ctx.captured_queries == []
    response = _client(key).post("/api/v1/messages/", {"recipient": 1, "body": "Hi"}, format="json")
    assert response.status_code == 403
    assert "not linked to a person" in response.json()["detail"]


@pytest.mark.parametrize("active", [True, False])
def test_an_unknown_token_or_an_inactive_user_is_refused_with_401(db: Any, active: bool) -> None:
    user = factories.UserFactory(is_active=active)
    key = Token.objects.create(user=user).key if not active else "0" * 40

    response = _client(key).get("/api/v1/roles/")

    assert response.status_code == 401
    assert response.json()["detail"] == (
        "User inactive or deleted." if not active else "Invalid token."
    )
