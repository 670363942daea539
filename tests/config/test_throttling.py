"""The REST API is limited per caller (API_THROTTLE_RATE, default 1000 a minute): past it,
429 with Retry-After. Twilio's webhooks are never throttled."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.throttling import ApiRateThrottle
from people.models import Person
from tests.config.subprocess_env import run, settings_of
from tests.twilio_bridge.webhook_client import STATUS_PATH, World, signed_post, status_params

pytestmark = pytest.mark.django_db


def token_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_past_the_rate_a_token_gets_429_with_retry_after(settings: Any, advisor: Person) -> None:
    settings.API_THROTTLE_RATE = "3/min"
    client = token_client(advisor.user)

    answers = [client.get("/api/v1/roles/").status_code for _ in range(3)]
    refused = client.get("/api/v1/roles/")

    assert answers == [200, 200, 200]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "throttled" in refused.json()["detail"]


def test_the_limit_is_per_caller(settings: Any, advisor: Person, admin_user: Any) -> None:
    settings.API_THROTTLE_RATE = "2/min"
    first, second = token_client(advisor.user), token_client(admin_user)
    for _ in range(2):
        first.get("/api/v1/roles/")

    assert first.get("/api/v1/roles/").status_code == 429
    assert second.get("/api/v1/roles/").status_code == 200


def test_a_logged_in_browser_session_calling_the_api_is_limited_too(
    settings: Any, advisor: Person
) -> None:
    settings.API_THROTTLE_RATE = "1/min"
    client = Client()
    client.force_login(advisor.user)

    assert client.get("/api/v1/roles/").status_code == 200
    assert client.get("/api/v1/roles/").status_code == 429


def test_webhooks_are_never_throttled(settings: Any, advisor: Person) -> None:
    settings.API_THROTTLE_RATE = "1/min"
    world = World()
    api = token_client(advisor.user)
    api.get("/api/v1/roles/")
    assert api.get("/api/v1/roles/").status_code == 429  # the limit is live

    texts = [world.outbound_text() for _ in range(5)]
    answers = [
        signed_post(Client(), STATUS_PATH, status_params(text.twilio_sid, "delivered")).status_code
        for text in texts
    ]

    assert answers == [204] * 5


def test_the_count_is_kept_in_the_shared_default_cache(
    settings: Any, advisor: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In production the default cache is Redis (REDIS_URL): every web process shares it."""
    monkeypatch.setattr(ApiRateThrottle, "cache", cache)
    settings.API_THROTTLE_RATE = "50/min"
    key = f"throttle_user_{advisor.user.pk}"
    cache.delete(key)
    try:
        token_client(advisor.user).get("/api/v1/roles/")

        assert len(cache.get(key)) == 1
    finally:
        cache.delete(key)


def test_the_default_rate_is_1000_a_minute_and_the_variable_changes_it() -> None:
    assert settings_of(["API_THROTTLE_RATE"]) == {"API_THROTTLE_RATE": "1000/min"}
    assert settings_of(["API_THROTTLE_RATE"], API_THROTTLE_RATE="20000/hour") == {
        "API_THROTTLE_RATE": "20000/hour"
    }


def test_a_malformed_rate_stops_the_start_naming_the_variable() -> None:
    result = run(
        [
            "-c",
            "import os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
            "import django; django.setup()",
        ],
        API_THROTTLE_RATE="1000 per minute",
    )
    assert result.returncode != 0
    assert "API_THROTTLE_RATE='1000 per minute' is not a rate" in result.stderr
