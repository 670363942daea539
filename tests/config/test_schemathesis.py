"""The OpenAPI schema matches every answer: a bounded schemathesis run against a live server.

Schemathesis reads /api/schema/ and calls every operation with data it generates from the
schema (examples, boundary values, fuzzing, and chains of calls), as an administrator who may
also send texts. The run must find no 5xx, no status code or Content-Type the schema does not
list, no body that violates its schema, no request that violates the schema accepted (an empty
filter, a text where a number goes), no missing-authentication or wrong-method answer: every
check schemathesis has, but one. `positive_data_acceptance` is left out: it expects every
schema-valid request to succeed, and the API refuses some for reasons a schema cannot state (a
code already in use, a person id that does not exist, a number that is not a phone number).

Bounded: 20 examples per operation (plus the coverage phase's boundary cases), one worker, a
fixed seed, so the run is repeatable and takes a few minutes on a small machine.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rest_framework.authtoken.models import Token

from messaging.models import Channel, Direction, FailureReason, Message, Status
from people.models import PhoneType
from sms_admin.models import SenderNumber, SmsConfiguration
from tests import factories
from tests.factories import assignments

pytestmark = pytest.mark.django_db(transaction=True)

SEED = "20260101"
MAX_EXAMPLES = "20"
# Every check but one (see the module docstring).
EXCLUDED_CHECKS = "positive_data_acceptance"


def _world(config: SmsConfiguration, cell: PhoneType) -> str:
    """A few objects of each kind; the token of an administrator who holds a permitted role."""
    factories.RoleFactory(code="student", kind="student")
    factories.PhoneTypeFactory(code="home", name="Home")
    caller = factories.staff(
        user=factories.UserFactory(username="schemathesis", is_staff=True, is_superuser=True)
    )
    students = [factories.student(email=f"s{i}@example.edu") for i in range(3)]
    for i, student in enumerate(students):
        factories.PhoneFactory(person=student, number=f"+1202555010{i}", phone_type=cell)
    for number in ("+12015550100", "+12015550101", "+12015550102"):
        SenderNumber.objects.create(number=number)
    assignments.assignment(number="+12015550190")
    for status, reason in ((Status.DELIVERED, ""), (Status.FAILED, FailureReason.NO_SMS_PHONE)):
        Message.objects.create(
            direction=Direction.OUTBOUND,
            sender=caller,
            recipient=students[0],
            channel=Channel.SMS,
            destination="+12025550100",
            body="Hello",
            status=status,
            failure_reason=reason,
        )
    return Token.objects.create(user=caller.user).key


def _count(pattern: str, output: str) -> int:
    found = re.search(pattern, output)
    return int(found.group(1)) if found else 0


def test_every_answer_of_the_api_matches_its_schema(
    live_server: Any,
    tmp_path: Path,
    config: SmsConfiguration,
    cell: PhoneType,
    sandbox: Any,
    settings: Any,
) -> None:
    # The run is one caller making some 2,000 requests in a minute or two: past the production
    # rate, it would mostly read 429s (documented, and checked in test_schema_errors).
    settings.API_THROTTLE_RATE = "100000/min"
    token = _world(config, cell)
    junit = tmp_path / "junit.xml"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{live_server.url}/api/schema/",
        "--header",
        f"Authorization: Token {token}",
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--max-examples",
        MAX_EXAMPLES,
        "--workers",
        "1",
        "--seed",
        SEED,
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(junit),
    ]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=1200, check=False
    )
    output = result.stdout + result.stderr
    summary = output[-8000:]
    print(*re.findall(r"^ *(\d+ generated.*)$", output, re.M))  # shown with pytest -rP
    assert result.returncode == 0, summary
    report = junit.read_text()
    assert 'failures="0"' in report and 'errors="0"' in report, summary
    # Every operation of the schema was called, each with the examples asked for.
    total = _count(r"Selected: \d+/(\d+)", output)
    assert total >= 28 and _count(r"Tested: (\d+)", output) == total, summary
    assert _count(r"(\d+) generated", output) >= total * int(MAX_EXAMPLES), summary
