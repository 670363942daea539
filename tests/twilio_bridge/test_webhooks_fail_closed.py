"""Webhooks fail closed: outside the embedded default, with no real Twilio credentials, both
webhooks refuse every request (403), even one correctly signed with the sandbox's public token.

The settings are read in a fresh process with exactly the environment of each case; the views'
refusal is proven both in that fresh process (a STOP a production start would have accepted)
and in-process against real data (nothing changes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from tests.config.subprocess_env import run, settings_of
from tests.twilio_bridge.test_webhook_signature import nothing_changed, stop_params
from tests.twilio_bridge.webhook_client import (
    FORM,
    INBOUND_PATH,
    STATUS_PATH,
    World,
    signed_post,
    status_params,
)

REAL = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "real-token"}


@pytest.mark.parametrize(
    ("variables", "open_"),
    [
        ({}, True),  # the embedded default: the sandbox is in use
        ({"DJANGO_DEBUG": "true"}, True),
        ({"DJANGO_DEBUG": "false"}, False),
        ({"DJANGO_DEBUG": "true", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32}, False),
        ({"DJANGO_DEBUG": "true", "TWILIO_AUTH_TOKEN": "real-token"}, False),
        ({"DJANGO_DEBUG": "false", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32}, False),
        ({"DJANGO_DEBUG": "false", **REAL}, True),
        ({"DJANGO_DEBUG": "true", **REAL}, True),
    ],
)
def test_webhooks_are_open_only_with_real_credentials_or_in_the_embedded_default(
    variables: dict[str, str], open_: bool
) -> None:
    assert settings_of(["TWILIO_WEBHOOKS_OPEN"], **variables) == {"TWILIO_WEBHOOKS_OPEN": open_}


# A fresh process posts a STOP signed with the settings' (sandbox) token. Its database has no
# tables: had the view run, it would fail instead of answering.
POST_SIGNED_STOP = """
import json, os
os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'
import django
django.setup()
from urllib.parse import urlencode
from django.conf import settings
from django.test import Client
from twilio.request_validator import RequestValidator
answers = {}
for path, params in [
    ('/twilio/sms/inbound/', {'MessageSid': 'SM' + 'a' * 32, 'From': '+12025550100',
                              'To': '+12015550100', 'Body': 'STOP'}),
    ('/twilio/sms/status/', {'MessageSid': 'SM' + 'b' * 32, 'MessageStatus': 'failed',
                             'ErrorCode': '30005'}),
]:
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
        settings.PUBLIC_BASE_URL + path, params)
    response = Client().post(path, data=urlencode(params),
                             content_type='application/x-www-form-urlencoded',
                             HTTP_X_TWILIO_SIGNATURE=signature)
    answers[path] = [response.status_code, response.json()['detail']]
print(json.dumps({'token': settings.TWILIO_AUTH_TOKEN, 'answers': answers}))
"""


def test_a_production_start_without_credentials_refuses_a_stop_signed_with_the_sandbox_token(
    tmp_path: Path,
) -> None:
    result = run(
        ["-c", POST_SIGNED_STOP],
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{tmp_path / 'no-tables.sqlite3'}",
    )

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["token"] == "sandbox-auth-token"  # the public token signed both requests
    for path in (INBOUND_PATH, STATUS_PATH):
        status, detail = answer["answers"][path]
        assert status == 403
        assert "Twilio webhooks are closed" in detail
        assert "TWILIO_AUTH_TOKEN" in detail


@pytest.fixture
def world(db: Any) -> World:
    return World()


@pytest.mark.django_db
@pytest.mark.parametrize("path", [STATUS_PATH, INBOUND_PATH])
def test_closed_webhooks_refuse_a_correctly_signed_request_and_change_nothing(
    world: World, settings: Any, path: str
) -> None:
    settings.TWILIO_WEBHOOKS_OPEN = False
    text = world.outbound_text()
    params = (
        status_params(text.twilio_sid, "failed", 30005)
        if path == STATUS_PATH
        else stop_params(world)
    )

    response = signed_post(Client(), path, params)

    assert response.status_code == 403
    assert "Twilio webhooks are closed" in response.json()["detail"]
    assert nothing_changed(world, text)


@pytest.mark.django_db
def test_closed_webhooks_refuse_unsigned_requests_too(world: World, settings: Any) -> None:
    settings.TWILIO_WEBHOOKS_OPEN = False

    response = Client().post(INBOUND_PATH, data=urlencode(stop_params(world)), content_type=FORM)

    assert response.status_code == 403
    assert nothing_changed(world)


@pytest.mark.django_db
def test_open_webhooks_accept_the_same_signed_stop(world: World, settings: Any) -> None:
    """The counterpart of the refusals above: the same request, webhooks open, is applied."""
    settings.TWILIO_WEBHOOKS_OPEN = True

    response = signed_post(Client(), INBOUND_PATH, stop_params(world))

    assert response.status_code == 200
    assert not nothing_changed(world)
