"""Contract check: the SDK's requests and the sandbox's answers, validated by Stoplight Prism
against Twilio's OpenAPI spec (`prism proxy --errors`), in front of the sandbox.

With `--errors`, any request or response that breaks the spec is answered with an error instead
of being passed through, so every passing call here is a validated one. `make test` installs
Prism (`npm ci`); without it these tests are skipped with that instruction.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings

from messaging import services
from messaging.models import FailureReason, Status
from tests.sending_support import pool_numbers, student_with_phone
from twilio_bridge import gateway
from twilio_bridge.sandbox import Sandbox

ROOT = Path(settings.BASE_DIR)
PRISM = ROOT / "node_modules" / ".bin" / "prism"
SPEC = ROOT.parent / "shared" / "twilio" / "twilio_api_v2010.prism.json"

pytestmark = [
    pytest.mark.skipif(
        not PRISM.exists(), reason="Prism is not installed: run `npm ci` (make test does)"
    ),
    pytest.mark.skipif(not SPEC.exists(), reason=f"Twilio's spec is missing at {SPEC}"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Prism:
    def __init__(self, upstream: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                str(PRISM),
                "proxy",
                "--errors",
                str(SPEC),
                upstream,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(self.url, timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("Prism did not start") from None
                time.sleep(0.2)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out or ""


@pytest.fixture(scope="module")
def prism_box() -> Iterator[tuple[Sandbox, Prism]]:
    box = Sandbox(callbacks=False).start()
    prism = Prism(box.url)
    yield box, prism
    prism.stop()
    box.stop()


@pytest.fixture
def via_prism(prism_box: tuple[Sandbox, Prism], settings: Any) -> Sandbox:
    box, prism = prism_box
    settings.TWILIO_API_BASE_URL = prism.url
    settings.TWILIO_READ_TIMEOUT = 10.0
    box.requests_log.clear()
    return box


def test_a_create_with_a_status_callback_passes_the_contract(via_prism: Sandbox) -> None:
    result = gateway.message_create(
        to="+15005550006",
        body="Hello 👍",
        from_="+12015550100",
        status_callback="http://127.0.0.1:8000/twilio/sms/status/?token=abc",
    )
    assert result.outcome == gateway.ACCEPTED
    assert result.sid in via_prism.messages


def test_fetch_and_list_pass_the_contract(via_prism: Sandbox) -> None:
    created = gateway.message_create(
        to="+15005550006", body="x", from_="+12015550100", status_callback=""
    )
    fetched = gateway.message_fetch(created.sid)
    listed = gateway.message_lookup(to="+15005550006", from_="+12015550100")

    assert fetched is not None and fetched.sid == created.sid
    assert listed is not None and created.sid in [m.sid for m in listed]


@pytest.mark.parametrize(("to", "code"), [("+15005550001", 21211), ("+15005550004", 21610)])
def test_twilio_error_answers_pass_the_contract(via_prism: Sandbox, to: str, code: int) -> None:
    result = gateway.message_create(to=to, body="x", from_="+12015550100", status_callback="")
    assert (result.outcome, result.error_code, result.http_status) == (gateway.REFUSED, code, 400)


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500)])
def test_throttling_and_server_error_answers_pass_the_contract(
    via_prism: Sandbox, status: int, code: int
) -> None:
    via_prism.fail_next(status=status, code=code)
    result = gateway.message_create(
        to="+15005550006", body="x", from_="+1201555", status_callback=""
    )
    assert (result.outcome, result.error_code, result.http_status) == (
        gateway.TRANSIENT,
        code,
        status,
    )


def test_prism_rejects_a_request_that_breaks_the_spec(via_prism: Sandbox, settings: Any) -> None:
    """Negative control: the check is real (an invalid StatusCallback never reaches Twilio)."""
    response = requests.post(
        f"{settings.TWILIO_API_BASE_URL}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}"
        "/Messages.json",
        data={"To": "+15005550006", "From": "+12015550100", "Body": "x", "StatusCallback": ""},
        auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN),
        timeout=10,
    )
    assert response.status_code == 422
    assert via_prism.creates() == []


def test_prism_rejects_an_answer_that_breaks_the_spec(via_prism: Sandbox) -> None:
    """Negative control: a sandbox answer outside Twilio's schema does not pass as accepted."""
    via_prism.corrupt_next()
    result = gateway.message_create(
        to="+15005550006", body="x", from_="+1201555", status_callback=""
    )
    assert result.outcome != gateway.ACCEPTED


@pytest.mark.usefixtures("config", "policy")
def test_the_whole_send_path_passes_the_contract(
    via_prism: Sandbox, advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    ok, _ = student_with_phone("+12025550100")
    bad, _ = student_with_phone("+15005550009")

    with django_capture_on_commit_callbacks(execute=True):
        sent = services.message_send(sender=advisor, recipient_id=ok.pk, body="Hi")
    with django_capture_on_commit_callbacks(execute=True):
        refused = services.message_send(sender=advisor, recipient_id=bad.pk, body="Hi")

    sent.refresh_from_db()
    refused.refresh_from_db()
    assert sent.status == Status.SENT and sent.twilio_sid in via_prism.messages
    assert (refused.status, refused.failure_reason) == (
        Status.FAILED,
        FailureReason.TWILIO_NOT_MOBILE,
    )
