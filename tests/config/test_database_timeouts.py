"""A PostgreSQL that accepts connections but never answers does not hang the service: `/healthz`
answers 503 within 3 s, and an ordinary request (a Twilio webhook) fails within Twilio's 15 s
instead of waiting for gunicorn to kill the worker. Statements the server runs are cut after
DATABASE_STATEMENT_TIMEOUT.

The hanging database is a socket on 127.0.0.1 that listens but never accepts: the kernel
completes each TCP handshake and buffers what the client sends, and nothing ever answers.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from tests.config.subprocess_env import run, settings_of

TIMED_REQUEST = """
import json, os, time
os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'
import django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
started = time.monotonic()
response = {request}
print(json.dumps({{'status': response.status_code, 'seconds': time.monotonic() - started,
                  'body': response.content.decode()}}))
"""

HEALTHZ = TIMED_REQUEST.format(request="client.get('/healthz')")
WEBHOOK = TIMED_REQUEST.format(
    request="client.post('/twilio/sms/status/', {'MessageSid': 'SM' + 'a' * 32, "
    "'MessageStatus': 'delivered'}, HTTP_X_TWILIO_SIGNATURE=__import__("
    "'twilio.request_validator', fromlist=['x']).RequestValidator('real-token')"
    ".compute_signature('https://sms.example.edu/twilio/sms/status/', "
    "{'MessageSid': 'SM' + 'a' * 32, 'MessageStatus': 'delivered'}))"
)
# As in production (DEBUG's error page would query the database again to show the locals).
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "real-token",
    "PUBLIC_BASE_URL": "https://sms.example.edu",
}


@pytest.fixture
def hanging_database() -> Iterator[str]:
    """A DATABASE_URL whose server accepts connections and never says a word."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"postgres://postgres@127.0.0.1:{sock.getsockname()[1]}/sms"


def timed(code: str, **variables: str) -> dict[str, Any]:
    result = run(["-c", code], **variables)
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_healthz_answers_503_within_3_seconds_when_the_database_hangs(
    hanging_database: str,
) -> None:
    answer = timed(HEALTHZ, DATABASE_URL=hanging_database, **PRODUCTION)

    assert answer["status"] == 503
    assert json.loads(answer["body"])["database"] == "unreachable"
    assert answer["seconds"] < 3, answer["seconds"]


def test_a_webhook_fails_within_twilios_15_seconds_when_the_database_hangs(
    hanging_database: str,
) -> None:
    """With the default timeouts; the signature is checked first, then the database is needed."""
    answer = timed(WEBHOOK, DATABASE_URL=hanging_database, **PRODUCTION)

    assert answer["status"] == 500
    assert answer["seconds"] < 15, answer["seconds"]


def test_connecting_gives_up_after_the_connect_timeout(hanging_database: str) -> None:
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'\n"
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "try:\n"
        "    connection.ensure_connection()\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, str(exc).strip().splitlines()[-1])\n"
    )
    result = run(["-c", code], DATABASE_URL=hanging_database, DATABASE_CONNECT_TIMEOUT="2")

    assert result.returncode == 0, result.stderr
    assert "OperationalError" in result.stdout
    assert "timeout expired" in result.stdout


def test_the_timeouts_default_to_5_and_10_seconds_and_follow_the_variables() -> None:
    url = "postgres://app@db.internal:5432/sms"
    defaults = settings_of(["DATABASES"], DATABASE_URL=url)["DATABASES"]["default"]["OPTIONS"]
    chosen = settings_of(
        ["DATABASES"],
        DATABASE_URL=url,
        DATABASE_CONNECT_TIMEOUT="3",
        DATABASE_STATEMENT_TIMEOUT="30",
    )["DATABASES"]["default"]["OPTIONS"]
    unlimited = settings_of(["DATABASES"], DATABASE_URL=url, DATABASE_STATEMENT_TIMEOUT="0")

    assert defaults == {"connect_timeout": 5, "options": "-c statement_timeout=10000"}
    assert chosen == {"connect_timeout": 3, "options": "-c statement_timeout=30000"}
    assert "options" not in unlimited["DATABASES"]["default"]["OPTIONS"]


def test_values_in_the_database_url_win() -> None:
    url = "postgres://app@db.internal:5432/sms?connect_timeout=9&options=-c%20statement_timeout%3D1000"
    options = settings_of(["DATABASES"], DATABASE_URL=url)["DATABASES"]["default"]["OPTIONS"]

    assert options == {"connect_timeout": 9, "options": "-c statement_timeout=1000"}


@pytest.mark.django_db
def test_postgresql_cuts_a_statement_after_the_statement_timeout() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'\n"
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "cursor = connection.cursor()\n"
        "cursor.execute('SHOW statement_timeout'); print(cursor.fetchone()[0])\n"
        "try:\n"
        "    cursor.execute('SELECT pg_sleep(30)')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, str(exc).splitlines()[0])\n"
    )
    result = run(["-c", code], DATABASE_URL=url, DATABASE_STATEMENT_TIMEOUT="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "1s",
        "OperationalError canceling statement due to statement timeout",
    ]
