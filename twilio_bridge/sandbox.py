"""A local Twilio: the embedded default and the tests' peer (no account, no network).

Speaks the Messages API of 2010-04-01 at Twilio's paths with Twilio's JSON shapes:

- `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (create; form-encoded),
- `GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json` (fetch),
- `GET  /2010-04-01/Accounts/{AccountSid}/Messages.json` (list; To, From, PageSize, Page),

with HTTP Basic auth (account SID : auth token; 401 / 20003 otherwise). After accepting a message
it posts signed status callbacks (X-Twilio-Signature, the same auth token) to the message's
StatusCallback: `sent`, then `delivered`, or `undelivered` with an ErrorCode for the sandbox
numbers below. It can also inject a signed inbound SMS to PUBLIC_BASE_URL/twilio/sms/inbound/.

Magic `To` numbers (as with Twilio's test credentials), refused at once with HTTP 400:
+15005550001 21211 invalid, +15005550002 21612 cannot route, +15005550003 21408 region not
permitted, +15005550004 21610 unsubscribed, +15005550009 21614 not SMS-capable; +15005550006 is
valid. Sandbox numbers accepted but ending `undelivered` (callbacks only):
+15005550013 30003 unreachable, +15005550014 30004 blocked, +15005550015 30005 unknown handset,
+15005550016 30006 landline, +15005550017 30007 filtered, +15005550034 30034 unregistered sender.
A number that sent STOP (through `inbound`) is refused with 21610 until it sends START.

Test helpers (in process): `fail_next(status, code, times)`, `hang_next(seconds, accept)`,
`requests_log`. The same are reachable over HTTP under `/_sandbox/` for other processes.
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from twilio_bridge import gateway

logger = logging.getLogger(__name__)

API = "/2010-04-01/Accounts/"

REFUSED_NUMBERS: dict[str, tuple[int, str]] = {
    "+15005550001": (21211, "The 'To' number {to} is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number: {to}, is not currently reachable via SMS."),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' "
        "number: {to}.",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number {to} is not a valid mobile number"),
}
UNDELIVERED_NUMBERS: dict[str, int] = {
    "+15005550013": 30003,
    "+15005550014": 30004,
    "+15005550015": 30005,
    "+15005550016": 30006,
    "+15005550017": 30007,
    "+15005550034": 30034,
}
ERROR_MESSAGES = {
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30034: "Message from an unregistered number",
}
OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN = {"START", "YES", "UNSTOP"}
MAX_BODY = 1600


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _rfc2822(at: datetime | None) -> str | None:
    return format_datetime(at) if at else None


def _segments(body: str) -> int:
    gsm = all(ord(c) < 128 for c in body)
    single, multi = (160, 153) if gsm else (70, 67)
    n = len(body) if gsm else len(body.encode("utf-16-le")) // 2
    return 1 if n <= single else -(-n // multi)


@dataclass
class Fault:
    kind: str  # "error", "hang" or "corrupt"
    status: int = 500
    code: int = 20500
    seconds: float = 0.0
    accept: bool = True


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a test's read timeout, a killed worker) is routine here: one
        log line, not a traceback on stderr; anything else is logged with its traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            logger.info("Sandbox client %s hung up: %s", client_address, error)
            return
        logger.exception("Sandbox request from %s failed", client_address)


class Sandbox:
    """The sandbox server; `start()` binds (port 0 picks a free port), `stop()` ends it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_sid: str | None = None,
        auth_token: str | None = None,
        public_base_url: str | None = None,
        callbacks: bool = True,
        callback_delay: float = 0.05,
        record_requests: bool = True,
    ) -> None:
        from django.conf import settings

        self.host, self.port = host, port
        self.account_sid = account_sid or settings.TWILIO_ACCOUNT_SID
        self.auth_token = auth_token or settings.TWILIO_AUTH_TOKEN
        self.public_base_url = (public_base_url or settings.PUBLIC_BASE_URL).rstrip("/")
        self.callbacks = callbacks
        self.callback_delay = callback_delay
        self.record_requests = record_requests
        self.messages: dict[str, dict[str, Any]] = {}
        self.requests_log: list[dict[str, Any]] = []
        self.callbacks_log: list[dict[str, Any]] = []
        self.opted_out: set[str] = set()
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._callbacks: queue.Queue[tuple[str, dict[str, str]] | None] = queue.Queue()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Sandbox:
        handler = type("Handler", (_Handler,), {"sandbox": self})
        self._server = _Server((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        server = self._server
        for name, target in (
            ("serve", lambda: server.serve_forever(poll_interval=0.05)),
            ("callbacks", self._post_callbacks),
        ):
            thread = threading.Thread(target=target, daemon=True, name=f"sandbox-{name}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._callbacks.put(None)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_callbacks(self, timeout: float = 10.0) -> None:
        """Block until every status callback queued so far has been posted."""
        deadline = time.monotonic() + timeout
        while self._callbacks.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    # --- test controls -----------------------------------------------------------------------

    def fail_next(self, *, status: int = 500, code: int = 20500, times: int = 1) -> None:
        """The next `times` creates are answered with HTTP `status` / Twilio `code`."""
        with self._lock:
            self._faults.extend(Fault("error", status=status, code=code) for _ in range(times))

    def hang_next(self, *, seconds: float, accept: bool = True) -> None:
        """The next create waits `seconds` before answering; with `accept` Twilio has taken the
        message by then (a timeout after the request left), without it the message is lost."""
        with self._lock:
            self._faults.append(Fault("hang", seconds=seconds, accept=accept))

    def corrupt_next(self) -> None:
        """The next create is accepted but answered with a body that breaks Twilio's schema
        (a negative control for the contract tests)."""
        with self._lock:
            self._faults.append(Fault("corrupt"))

    def creates(self) -> list[dict[str, Any]]:
        """The create requests that reached the sandbox (accepted or not)."""
        return [r for r in self.requests_log if r["action"] == "create"]

    # --- the Messages API --------------------------------------------------------------------

    def _error(self, status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
        return status, {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def _resource(self, msg: dict[str, Any]) -> dict[str, Any]:
        uri = f"{API}{self.account_sid}/Messages/{msg['sid']}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": msg["body"],
            "date_created": _rfc2822(msg["date_created"]),
            "date_sent": _rfc2822(msg["date_sent"]),
            "date_updated": _rfc2822(msg["date_updated"]),
            "direction": msg["direction"],
            "error_code": msg["error_code"],
            "error_message": msg["error_message"],
            "from": msg["from"],
            "messaging_service_sid": msg["messaging_service_sid"],
            "num_media": "0",
            "num_segments": str(msg["num_segments"]),
            "price": None,
            "price_unit": "USD",
            "sid": msg["sid"],
            "status": msg["status"],
            "subresource_uris": {
                "media": f"{API}{self.account_sid}/Messages/{msg['sid']}/Media.json",
                "feedback": f"{API}{self.account_sid}/Messages/{msg['sid']}/Feedback.json",
            },
            "to": msg["to"],
            "uri": uri,
        }

    def create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.kind == "error":
            words = {429: "Too Many Requests", 500: "Internal Server Error"}
            return self._error(fault.status, fault.code, words.get(fault.status, "Error"))
        to = form.get("To", "")
        body = form.get("Body", "")
        sender = form.get("From", "")
        service = form.get("MessagingServiceSid", "")
        if not to:
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not sender and not service:
            return self._error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return self._error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            return self._error(400, 21617, "The concatenated message body exceeds the 1600 limit.")
        if to in REFUSED_NUMBERS:
            code, text = REFUSED_NUMBERS[to]
            return self._error(400, code, text.format(to=to))
        if to in self.opted_out:
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        if fault is not None and fault.kind == "hang" and not fault.accept:
            time.sleep(fault.seconds)
            return self._error(500, 20500, "Internal Server Error")
        now = datetime.now(UTC)
        msg: dict[str, Any] = {
            "sid": _sid("SM"),
            "to": to,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "body": body,
            "status": "accepted" if service and not sender else "queued",
            "direction": "outbound-api",
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "error_code": None,
            "error_message": None,
            "num_segments": _segments(body),
            "status_callback": form.get("StatusCallback", ""),
        }
        with self._lock:
            self.messages[msg["sid"]] = msg
        if self.callbacks and msg["status_callback"]:
            self._schedule_statuses(msg)
        if fault is not None and fault.kind == "hang":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "corrupt":
            return 201, {**self._resource(msg), "status": "teleported", "error_code": "none"}
        return 201, self._resource(msg)

    def fetch(self, sid: str, path: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            msg = self.messages.get(sid)
        if msg is None:
            return self._error(404, 20404, f"The requested resource {path} was not found")
        return 200, self._resource(msg)

    def list(self, query: dict[str, str], path: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            found = [
                m
                for m in reversed(self.messages.values())
                if (not query.get("To") or m["to"] == query["To"])
                and (not query.get("From") or m["from"] == query["From"])
            ]
        size = max(1, min(int(query.get("PageSize") or 50), 1000))
        page = max(0, int(query.get("Page") or 0))
        chunk = found[page * size : (page + 1) * size]

        def page_uri(n: int) -> str:
            params = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}
            params.update({"PageSize": str(size), "Page": str(n)})
            return f"{path}?{urlencode(params)}"

        return 200, {
            "messages": [self._resource(m) for m in chunk],
            "end": page * size + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if (page + 1) * size < len(found) else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": page * size,
            "uri": page_uri(page),
        }

    # --- callbacks ---------------------------------------------------------------------------

    def _set_status(self, msg: dict[str, Any], status: str, error_code: int | None) -> None:
        with self._lock:
            msg["status"] = status
            msg["date_updated"] = datetime.now(UTC)
            if status == "sent":
                msg["date_sent"] = msg["date_updated"]
            if error_code:
                msg["error_code"] = error_code
                msg["error_message"] = ERROR_MESSAGES.get(error_code, "Error")

    def _schedule_statuses(self, msg: dict[str, Any]) -> None:
        final_code = UNDELIVERED_NUMBERS.get(msg["to"])
        for status in ("sent", "undelivered" if final_code else "delivered"):
            params = {
                "AccountSid": self.account_sid,
                "ApiVersion": "2010-04-01",
                "From": msg["from"] or "",
                "MessageSid": msg["sid"],
                "MessageStatus": status,
                "SmsSid": msg["sid"],
                "SmsStatus": status,
                "To": msg["to"],
            }
            if msg["messaging_service_sid"]:
                params["MessagingServiceSid"] = msg["messaging_service_sid"]
            if status == "undelivered" and final_code:
                params["ErrorCode"] = str(final_code)
            self._callbacks.put((msg["sid"], params))

    def _post_callbacks(self) -> None:
        session = requests.Session()
        while True:
            item = self._callbacks.get()
            if item is None:
                self._callbacks.task_done()
                return
            sid, params = item
            try:
                if self.callback_delay:
                    time.sleep(self.callback_delay)
                with self._lock:
                    msg = self.messages[sid]
                self._set_status(msg, params["MessageStatus"], int(params.get("ErrorCode") or 0))
                status = self.post_signed(msg["status_callback"], params, session=session)
                self.callbacks_log.append(
                    {"url": msg["status_callback"], **params, "_http": status}
                )
            except Exception:
                logger.warning("Sandbox status callback for %s failed", sid, exc_info=True)
            finally:
                self._callbacks.task_done()

    def post_signed(
        self, url: str, params: dict[str, str], *, session: requests.Session | None = None
    ) -> int:
        """POST `params` to `url` form-encoded, signed as Twilio signs; returns the HTTP status."""
        signature = gateway.signature_compute(auth_token=self.auth_token, url=url, params=params)
        poster = session or requests
        response = poster.post(
            url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10
        )
        return response.status_code

    def inbound(
        self, *, from_: str, to: str, body: str, opt_out_type: str = "", url: str = ""
    ) -> tuple[str, int]:
        """A student texts `to` from `from_`: post a signed inbound webhook. Returns (sid, HTTP)."""
        word = body.strip().upper()
        if word in OPT_OUT:
            self.opted_out.add(from_)
        elif word in OPT_IN:
            self.opted_out.discard(from_)
        sid = _sid("SM")
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "Body": body,
            "From": from_,
            "MessageSid": sid,
            "NumMedia": "0",
            "NumSegments": str(_segments(body)),
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": to,
        }
        if opt_out_type:
            params["OptOutType"] = opt_out_type
        target = url or f"{self.public_base_url}/twilio/sms/inbound/"
        return sid, self.post_signed(target, params)


class _Handler(BaseHTTPRequestHandler):
    sandbox: Sandbox
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add 40 ms to every answer on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sandbox: " + format, *args)

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        return {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    def _authorized(self, account: str) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        sandbox = self.sandbox
        return user == sandbox.account_sid == account and password == sandbox.auth_token

    def _route(self, method: str) -> None:
        sandbox = self.sandbox
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        form = self._form() if method == "POST" else {}
        if path.startswith("/_sandbox/"):
            self._control(method, path, form)
            return
        if not path.startswith(API):
            self._send(*sandbox._error(404, 20404, f"The requested resource {path} was not found"))
            return
        account, _, rest = path[len(API) :].partition("/")
        action = (
            "create"
            if method == "POST" and rest == "Messages.json"
            else "list"
            if method == "GET" and rest == "Messages.json"
            else "fetch"
            if method == "GET" and rest.startswith("Messages/") and rest.endswith(".json")
            else "unknown"
        )
        if sandbox.record_requests:
            with sandbox._lock:
                sandbox.requests_log.append(
                    {"action": action, "method": method, "path": path, "form": form, "query": query}
                )
        if not self._authorized(account):
            self._send(*sandbox._error(401, 20003, "Authenticate"))
            return
        if action == "create":
            self._send(*sandbox.create(form))
        elif action == "list":
            self._send(*sandbox.list(query, path))
        elif action == "fetch":
            self._send(*sandbox.fetch(rest[len("Messages/") : -len(".json")], path))
        else:
            self._send(*sandbox._error(404, 20404, f"The requested resource {path} was not found"))

    def _control(self, method: str, path: str, form: dict[str, str]) -> None:
        sandbox = self.sandbox
        if path == "/_sandbox/requests" and method == "GET":
            self._send(200, sandbox.requests_log)
        elif path == "/_sandbox/messages" and method == "GET":
            with sandbox._lock:
                self._send(200, [sandbox._resource(m) for m in sandbox.messages.values()])
        elif path == "/_sandbox/faults" and method == "POST":
            sandbox.fail_next(
                status=int(form.get("status", 500)),
                code=int(form.get("code", 20500)),
                times=int(form.get("times", 1)),
            )
            self._send(200, {"ok": True})
        elif path == "/_sandbox/inbound" and method == "POST":
            sid, status = sandbox.inbound(
                from_=form.get("From", ""), to=form.get("To", ""), body=form.get("Body", "")
            )
            self._send(200, {"sid": sid, "webhook_status": status})
        else:
            self._send(404, {"detail": "unknown sandbox control"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")
