"""A database that cannot be reached or stopped answering is answered 503 with Retry-After
(clients and Twilio try again; nothing was changed), not 500; other errors stay 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from messaging import selectors
from tests.conftest import client_for
from tests.twilio_bridge.webhook_client import (
    INBOUND_PATH,
    World,
    inbound_params,
    new_sid,
    signed_post,
)


def down(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError("canceling statement due to statement timeout")


def test_an_api_send_while_the_database_hangs_is_a_503_with_retry_after(
    advisor: Any, config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "send_context", down)
    api = client_for(advisor.user)
    api.raise_request_exception = False

    answer = api.post("/api/v1/messages/", {"recipient": 1, "body": "Hi"}, format="json")

    assert answer.status_code == 503
    assert answer["Retry-After"] == "60"
    assert "database is not answering" in answer.json()["detail"]


def test_a_webhook_while_the_database_hangs_is_a_503_so_twilio_tries_again(
    monkeypatch: pytest.MonkeyPatch, db: Any
) -> None:
    from messaging import inbound

    world = World()
    monkeypatch.setattr(inbound, "message_inbound_receive", down)
    client = Client(raise_request_exception=False)

    params = inbound_params(
        sid=new_sid(),
        from_number=world.cell.number,
        to_number=world.sender_number.number,
        body="Hi",
    )
    answer = signed_post(client, INBOUND_PATH, params)

    assert answer.status_code == 503
    assert answer["Retry-After"] == "60"


def test_any_other_error_is_still_a_500(
    advisor: Any, config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "send_context", lambda *a, **k: 1 / 0)
    api = client_for(advisor.user)
    api.raise_request_exception = False

    answer = api.post("/api/v1/messages/", {"recipient": 1, "body": "Hi"}, format="json")

    assert answer.status_code == 500
