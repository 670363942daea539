"""The sandbox speaks Twilio's Messages API, checks Basic auth, honours the magic numbers, signs
its status callbacks and inbound messages as Twilio does."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from twilio_bridge.gateway import RewritingHttpClient
from twilio_bridge.sandbox import Sandbox

SID = "AC" + "1" * 32
TOKEN = "sandbox-test-token"


class Receiver:
    """A tiny web server standing in for our webhooks: records what it is posted."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                received.append(
                    {
                        "path": self.path,
                        "form": form,
                        "signature": self.headers.get("X-Twilio-Signature", ""),
                    }
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=lambda: self.server.serve_forever(poll_interval=0.05), daemon=True
        ).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def box(receiver: Receiver) -> Iterator[Sandbox]:
    sandbox = Sandbox(
        account_sid=SID, auth_token=TOKEN, public_base_url=receiver.url, callback_delay=0
    ).start()
    yield sandbox
    sandbox.stop()


def sdk(box: Sandbox, token: str = TOKEN) -> Client:
    return Client(SID, token, http_client=RewritingHttpClient(box.url))


def test_create_fetch_and_list_work_through_the_twilio_sdk(box: Sandbox) -> None:
    client = sdk(box)

    created = client.messages.create(to="+15005550006", from_="+12015550100", body="Hello")
    fetched = client.messages(created.sid).fetch()
    listed = client.messages.list(to="+15005550006")

    assert created.sid.startswith("SM") and len(created.sid) == 34
    assert (created.status, created.to, created.from_, created.body) == (
        "queued",
        "+15005550006",
        "+12015550100",
        "Hello",
    )
    assert created.num_segments == "1"
    assert created.date_created is not None
    assert fetched.sid == created.sid
    assert [m.sid for m in listed] == [created.sid]


def test_listing_follows_pages(box: Sandbox) -> None:
    client = sdk(box)
    sids = [
        client.messages.create(to="+15005550006", from_="+12015550100", body=str(i)).sid
        for i in range(5)
    ]
    listed = client.messages.list(page_size=2)
    assert [m.sid for m in listed] == list(reversed(sids))


def test_wrong_credentials_get_401_with_twilio_code_20003(box: Sandbox) -> None:
    with pytest.raises(TwilioRestException) as error:
        sdk(box, token="wrong").messages.create(to="+15005550006", from_="+1201", body="x")
    assert (error.value.status, error.value.code) == (401, 20003)
    response = requests.get(f"{box.url}/2010-04-01/Accounts/{SID}/Messages.json", timeout=5)
    assert response.status_code == 401
    assert box.messages == {}


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("+15005550001", 21211),
        ("+15005550002", 21612),
        ("+15005550003", 21408),
        ("+15005550004", 21610),
        ("+15005550009", 21614),
    ],
)
def test_magic_numbers_are_refused_with_their_error_code(box: Sandbox, to: str, code: int) -> None:
    with pytest.raises(TwilioRestException) as error:
        sdk(box).messages.create(to=to, from_="+12015550100", body="x")
    assert (error.value.status, error.value.code) == (400, code)
    assert box.messages == {}


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": "+12015550100", "Body": "x"}, 21604),
        ({"To": "+15005550006", "Body": "x"}, 21603),
        ({"To": "+15005550006", "From": "+12015550100"}, 21602),
        ({"To": "+15005550006", "From": "+12015550100", "Body": "x" * 1601}, 21617),
    ],
)
def test_incomplete_requests_are_refused_as_twilio_does(
    box: Sandbox, form: dict[str, str], code: int
) -> None:
    response = requests.post(
        f"{box.url}/2010-04-01/Accounts/{SID}/Messages.json",
        data=form,
        auth=(SID, TOKEN),
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["code"] == code


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_status_callbacks_are_sent_then_delivered_and_signed_with_the_auth_token(
    box: Sandbox, receiver: Receiver
) -> None:
    callback = f"{receiver.url}/twilio/sms/status/?token=abc-123"
    created = sdk(box).messages.create(
        to="+15005550006", from_="+12015550100", body="Hi", status_callback=callback
    )
    wait_for(lambda: len(receiver.posts) == 2)

    assert [p["form"]["MessageStatus"] for p in receiver.posts] == ["sent", "delivered"]
    for post in receiver.posts:
        assert post["path"] == "/twilio/sms/status/?token=abc-123"
        assert post["form"]["MessageSid"] == created.sid
        assert RequestValidator(TOKEN).validate(callback, post["form"], post["signature"])
        assert not RequestValidator("other").validate(callback, post["form"], post["signature"])
    assert sdk(box).messages(created.sid).fetch().status == "delivered"


@pytest.mark.parametrize(
    ("to", "code"),
    [("+15005550013", "30003"), ("+15005550015", "30005"), ("+15005550016", "30006")],
)
def test_sandbox_numbers_end_undelivered_with_their_error_code(
    box: Sandbox, receiver: Receiver, to: str, code: str
) -> None:
    callback = f"{receiver.url}/twilio/sms/status/"
    created = sdk(box).messages.create(
        to=to, from_="+12015550100", body="Hi", status_callback=callback
    )
    wait_for(lambda: len(receiver.posts) == 2)

    sent, final = (p["form"] for p in receiver.posts)
    assert (sent["MessageStatus"], final["MessageStatus"], final["ErrorCode"]) == (
        "sent",
        "undelivered",
        code,
    )
    fetched = sdk(box).messages(created.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", int(code))


def test_an_inbound_sms_is_posted_signed_to_the_inbound_webhook(
    box: Sandbox, receiver: Receiver
) -> None:
    sid, status = box.inbound(from_="+12025550100", to="+12015550100", body="Thanks!")

    assert status == 200
    [post] = receiver.posts
    assert post["path"] == "/twilio/sms/inbound/"
    assert post["form"]["MessageSid"] == sid
    assert (post["form"]["From"], post["form"]["To"], post["form"]["Body"]) == (
        "+12025550100",
        "+12015550100",
        "Thanks!",
    )
    url = f"{receiver.url}/twilio/sms/inbound/"
    assert RequestValidator(TOKEN).validate(url, post["form"], post["signature"])


def test_a_number_that_sent_stop_is_refused_with_21610_until_start(box: Sandbox) -> None:
    client = sdk(box)
    box.inbound(from_="+12025550100", to="+12015550100", body="stop")
    with pytest.raises(TwilioRestException) as error:
        client.messages.create(to="+12025550100", from_="+12015550100", body="x")
    assert error.value.code == 21610

    box.inbound(from_="+12025550100", to="+12015550100", body="START")
    assert client.messages.create(to="+12025550100", from_="+12015550100", body="x").sid


def test_the_request_log_and_faults_are_reachable_over_http(box: Sandbox) -> None:
    requests.post(f"{box.url}/_sandbox/faults", data={"status": 429, "code": 20429}, timeout=5)
    with pytest.raises(TwilioRestException) as error:
        sdk(box).messages.create(to="+15005550006", from_="+12015550100", body="x")
    assert error.value.status == 429
    log = requests.get(f"{box.url}/_sandbox/requests", timeout=5).json()
    assert [r["action"] for r in log] == ["create"]
    inbound = requests.post(
        f"{box.url}/_sandbox/inbound",
        data={"From": "+12025550100", "To": "+12015550100", "Body": "hi"},
        timeout=5,
    ).json()
    assert inbound["webhook_status"] == 200


def test_a_client_that_hung_up_is_one_log_line_and_other_errors_keep_their_traceback(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    box = Sandbox(callbacks=False).start()
    server = box._server
    assert server is not None
    try:
        with socket.socket() as sock, caplog.at_level(logging.INFO, logger="twilio_bridge.sandbox"):
            try:
                raise ConnectionResetError(104, "Connection reset by peer")
            except ConnectionResetError:
                server.handle_error(sock, ("127.0.0.1", 5))
            try:
                raise ValueError("a bug in a handler")
            except ValueError:
                server.handle_error(sock, ("127.0.0.1", 6))
    finally:
        box.stop()

    hung_up, failed = caplog.records
    assert "hung up" in hung_up.getMessage() and hung_up.exc_info is None
    assert failed.levelno == logging.ERROR and failed.exc_info is not None
    assert "Traceback" not in capsys.readouterr().err
