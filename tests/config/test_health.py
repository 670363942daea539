"""`/healthz` answers 200 with JSON while the database answers, and 503 when it does not.

The unreachable database is real: a fresh process whose DATABASE_URL names a port where nothing
listens (a socket bound but not listening, so no other process can take the port meanwhile).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.config.subprocess_env import run

HEALTHZ_IN_A_FRESH_PROCESS = (
    "import json, os\n"
    "os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'\n"
    "import django\n"
    "django.setup()\n"
    "from django.test import Client\n"
    "response = Client().get('/healthz')\n"
    "print(json.dumps({'status': response.status_code, 'body': response.json(),\n"
    "                  'type': response['Content-Type']}))\n"
)


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def healthz_with(**variables: str) -> dict[str, Any]:
    result = run(["-c", HEALTHZ_IN_A_FRESH_PROCESS], **variables)
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


@pytest.mark.django_db
def test_a_healthy_service_answers_200_with_json(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["database"] == "ok"
    assert body["status"] == "ok"
    assert body["broker"] in {"ok", "in-process"}


def test_the_health_check_needs_no_login_and_only_answers_get(client: Client) -> None:
    assert client.post("/healthz").status_code == 405


def test_an_unreachable_postgresql_database_answers_503(closed_port: int) -> None:
    answer = healthz_with(DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port}/sms")
    assert answer["status"] == 503
    assert answer["type"] == "application/json"
    assert answer["body"] == {
        "status": "degraded",
        "database": "unreachable",
        "broker": "in-process",
    }


def test_an_sqlite_file_that_cannot_be_opened_answers_503() -> None:
    answer = healthz_with(DATABASE_URL="sqlite:////nonexistent-directory/sub/db.sqlite3")
    assert answer["status"] == 503
    assert answer["body"]["database"] == "unreachable"


@pytest.mark.django_db
def test_a_reachable_postgresql_database_answers_200() -> None:
    database = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    answer = healthz_with(DATABASE_URL=url)
    assert answer["status"] == 200
    assert answer["body"]["database"] == "ok"


def test_an_unreachable_broker_is_reported_but_the_service_still_answers_200(
    closed_port: int,
) -> None:
    answer = healthz_with(REDIS_URL=f"redis://127.0.0.1:{closed_port}/0")
    assert answer["status"] == 200
    assert answer["body"] == {"status": "degraded", "database": "ok", "broker": "unreachable"}


def test_a_reachable_broker_is_reported_ok() -> None:
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        pytest.skip("needs Redis: run with REDIS_URL=redis://...")
    answer = healthz_with(REDIS_URL=redis_url)
    assert answer["body"] == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_the_health_check_reports_a_database_outage_and_its_end() -> None:
    """A running process whose database connection is cut answers 503, then 200 once the
    database is back, without a restart (the broken persistent connection is replaced)."""
    database = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")
    prefix = (
        f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@127.0.0.1:PORT/"
        f"{database['NAME']}"
    )
    result = run(
        ["-m", "tests.config.health_outage", prefix, str(database["PORT"] or 5432)],
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["before"] == [200, {"status": "ok", "database": "ok", "broker": "in-process"}]
    assert answer["during"][0] == 503
    assert answer["during"][1]["database"] == "unreachable"
    assert answer["after"] == [200, {"status": "ok", "database": "ok", "broker": "in-process"}]
