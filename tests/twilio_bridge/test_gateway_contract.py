"""Contract check: the SDK's requests and the sandbox's answers, validated by Stoplight Prism
against Twilio's OpenAPI spec (`prism proxy --errors`), in front of the sandbox.

With `--errors`, any request or response that breaks the spec is answered with an error instead
of being passed through, so every passing call here is a validated one. The last tests check
`prism mock` (answers from the spec's examples) on the same spec.

`make prism` (which `make test` runs) installs Prism and Twilio's spec from npm; the spec Prism
reads is built from it by `prism_spec.py`. Without them these tests fail, saying to run
`make prism`.
"""

from __future__ import annotations

import json
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
from tests.twilio_bridge import prism_spec
from twilio_bridge import gateway
from twilio_bridge.sandbox import Sandbox

PRISM = Path(settings.BASE_DIR) / "node_modules" / ".bin" / "prism"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Prism:
    """`prism proxy --errors <spec> <upstream>`, or `prism mock <spec>` with no upstream."""

    def __init__(self, spec: Path, upstream: str | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        mode = ["proxy", "--errors", str(spec), upstream] if upstream else ["mock", str(spec)]
        self.proc = subprocess.Popen(
            [str(PRISM), *mode, "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(self.url, timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                # Not listening yet, or listening while it still loads the spec (a busy machine).
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
def spec() -> Path:
    if not PRISM.exists():
        pytest.fail("Prism is not installed: run `make prism` (it runs `npm ci`)", pytrace=False)
    try:
        return prism_spec.build()
    except prism_spec.SpecMissing as missing:
        pytest.fail(str(missing), pytrace=False)


@pytest.fixture(scope="module")
def prism_box(spec: Path) -> Iterator[tuple[Sandbox, Prism]]:
    box = Sandbox(callbacks=False).start()
    prism = Prism(spec, box.url)
    yield box, prism
    prism.stop()
    box.stop()


@pytest.fixture(scope="module")
def prism_mock(spec: Path) -> Iterator[Prism]:
    prism = Prism(spec)
    yield prism
    prism.stop()


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


@pytest.mark.parametrize(
    "media",
    [
        pytest.param(["https://example.com/a.jpg", "https://example.com/b.jpg"], id="repeated"),
        pytest.param(["/media/a.jpg"], id="format-twilio-ignores"),
    ],
)
def test_a_create_with_media_urls_passes_the_contract(
    via_prism: Sandbox, settings: Any, media: list[str]
) -> None:
    """MediaUrl is a repeated form key, and Twilio does not check its format."""
    response = requests.post(
        f"{settings.TWILIO_API_BASE_URL}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}"
        "/Messages.json",
        data=[("To", "+15005550006"), ("From", "+12015550100"), ("Body", "x")]
        + [("MediaUrl", url) for url in media],
        auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN),
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert len(via_prism.creates()) == 1


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


def test_a_mocked_message_list_ends_after_its_last_page(prism_mock: Prism, settings: Any) -> None:
    settings.TWILIO_API_BASE_URL = prism_mock.url
    listed = gateway.message_lookup(to="+15005550006", from_="+12015550100")

    example = json.loads(prism_spec.SOURCE.read_text())["paths"][prism_spec.MESSAGES]["get"]
    page = example["responses"]["200"]["content"]["application/json"]["examples"]
    assert listed is not None
    assert [m.sid for m in listed] == [m["sid"] for m in page["readFullPage1"]["value"]["messages"]]


@pytest.mark.parametrize(
    ("status", "code"), [(400, 21211), (400, 21610), (401, 20003), (429, 20429), (500, 20500)]
)
def test_a_mock_answers_the_twilio_error_a_test_asks_for(
    prism_mock: Prism, settings: Any, status: int, code: int
) -> None:
    response = requests.post(
        f"{prism_mock.url}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Messages.json",
        data={"To": "+15005550006", "From": "+12015550100", "Body": "x"},
        auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN),
        headers={"Prefer": f"code={status}, example=e{code}"},
        timeout=10,
    )
    assert response.status_code == status
    assert response.json()["code"] == code
