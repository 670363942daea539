"""The module that calls Twilio's SDK (S6): send, fetch and look up messages, and the
`TwilioGateway` the send pipeline (messaging.sending) talks through (`from_settings()`). The
SDK's requests are sent by `transport.PooledHttpClient` (urllib3's pool).

Every outcome of a create is sorted into one of the four outcomes of messaging.gateway:

- accepted: Twilio took the message (it has a SID);
- refused: Twilio answered 4xx with an error code (21610, 21211, ...): permanent, apply T3;
- transient: Twilio certainly did not take it (429, 5xx, connection refused or not
  established): safe to send again after a backoff;
- ambiguous: the request may have reached Twilio (read timeout, connection dropped after the
  request left, an unreadable 2xx): never sent again blindly; reconcile by looking it up.

With TWILIO_API_BASE_URL set, every `https://*.twilio.com` URL the SDK builds is rewritten to that
base (the local sandbox, Prism, an emulator), whatever edge or region is configured.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from typing import Any

import urllib3
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from messaging.gateway import Outcome, RemoteMessage, SendResult
from twilio_bridge import transport

logger = logging.getLogger(__name__)

ACCEPTED = Outcome.ACCEPTED
REFUSED = Outcome.REFUSED
TRANSIENT = Outcome.TRANSIENT
AMBIGUOUS = Outcome.AMBIGUOUS


class RewritingHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """The SDK's own HTTP client (requests), sending to `base_url` instead of
    https://*.twilio.com: what a script using the SDK directly would do (the benchmarks'
    reference, the sandbox's tests). The gateway itself uses `transport.PooledHttpClient`."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def rewrite(self, url: str) -> str:
        return transport.rewrite(url, self.base_url)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, self.rewrite(url), *args, **kwargs)


_local = threading.local()


def _timeout() -> tuple[float, float]:
    # (connect, read): a connect timeout means the request never left; a read timeout is ambiguous.
    return (
        float(getattr(settings, "TWILIO_CONNECT_TIMEOUT", 5.0)),
        float(getattr(settings, "TWILIO_READ_TIMEOUT", 15.0)),
    )


def client() -> Client:
    """A Twilio client for this thread, built from settings (sandbox credentials by default) and
    from the environment's proxy settings at the time it is built (transport.PooledHttpClient)."""
    key = (
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        settings.TWILIO_API_BASE_URL,
        _timeout(),
    )
    cached = getattr(_local, "client", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    http = transport.PooledHttpClient(settings.TWILIO_API_BASE_URL, timeout=_timeout())
    new = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http)
    _local.client = (key, new)
    return new


def client_forget() -> None:
    """Drop this thread's client: the next `client()` reads the settings and the environment
    again (tests that change the environment's proxy settings; a forked child process, which
    must not share its parent's connections)."""
    _local.client = None


os.register_at_fork(after_in_child=client_forget)


def status_callback_url(token: str) -> str:
    """Where Twilio posts this message's statuses: our token lets the callback find it (T2)."""
    return f"{settings.PUBLIC_BASE_URL}/twilio/sms/status/?token={token}"


def _never_connected(exc: urllib3.exceptions.HTTPError) -> bool:
    """True when the request certainly did not leave: no connection to Twilio (or to the proxy
    in front of it) was made."""
    if isinstance(exc, urllib3.exceptions.SSLError) and any(
        isinstance(arg, ssl.SSLCertVerificationError) for arg in exc.args
    ):
        # The server's certificate was refused during the handshake, before any request. Other
        # TLS errors may come after the request left: they stay ambiguous.
        return True
    return isinstance(
        exc,
        # No connection (NewConnectionError is a ConnectTimeoutError).
        urllib3.exceptions.ConnectTimeoutError
        # urllib3 raises ProxyError only while the connection to the proxy, or the tunnel
        # through it, is not made (refused, unreachable, or the proxy answered the CONNECT with
        # 407 or 403): nothing was sent through it.
        | urllib3.exceptions.ProxyError
        # An address that cannot be used (a SOCKS proxy, which urllib3 does not speak without
        # PySocks; a malformed base URL): no request was made.
        | urllib3.exceptions.LocationValueError,
    )


def message_create(*, to: str, body: str, from_: str, status_callback: str) -> SendResult:
    """Ask Twilio to send one text; never raises for a Twilio or network failure."""
    kwargs: dict[str, Any] = {"to": to, "body": body}
    if status_callback:
        # Twilio's spec requires a URI here: an empty StatusCallback is an invalid request.
        kwargs["status_callback"] = status_callback
    if from_:
        kwargs["from_"] = from_
    if settings.TWILIO_MESSAGING_SERVICE_SID:
        kwargs["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
    try:
        message = client().messages.create(**kwargs)
    except TwilioRestException as exc:
        if exc.status == 429 or exc.status >= 500 or exc.status in (401, 403):
            # Throttled, unavailable, or our credentials: Twilio did not take the message.
            return SendResult(
                TRANSIENT, error_code=exc.code, http_status=exc.status, detail=str(exc.msg)
            )
        return SendResult(REFUSED, error_code=exc.code, http_status=exc.status, detail=exc.msg)
    except TwilioServiceException as exc:
        status = int(getattr(exc, "status", 0) or 0)
        code = getattr(exc, "code", None)
        outcome = TRANSIENT if status == 429 or status >= 500 or not status else REFUSED
        return SendResult(outcome, error_code=code, http_status=status, detail=str(exc))
    except urllib3.exceptions.ReadTimeoutError as exc:
        return SendResult(AMBIGUOUS, detail=f"no answer in time: {exc}")
    except urllib3.exceptions.HTTPError as exc:
        if _never_connected(exc):
            return SendResult(TRANSIENT, detail=f"connection failed: {exc}")
        return SendResult(AMBIGUOUS, detail=f"connection dropped after sending: {exc}")
    except (TwilioException, ValueError) as exc:
        return SendResult(AMBIGUOUS, detail=f"unreadable answer: {exc}")
    return SendResult(ACCEPTED, sid=message.sid or "", status=str(message.status or "queued"))


def _remote(message: Any) -> RemoteMessage:
    return RemoteMessage(
        sid=message.sid or "",
        status=str(message.status or ""),
        to=message.to or "",
        from_=getattr(message, "from_", "") or "",
        body=message.body or "",
        error_code=message.error_code,
        date_created=message.date_created,
    )


def message_fetch(sid: str) -> RemoteMessage | None:
    """The message as Twilio has it; None when it cannot be read now."""
    try:
        return _remote(client().messages(sid).fetch())
    except (TwilioException, urllib3.exceptions.HTTPError, ValueError):
        logger.warning("Could not fetch Twilio message %s", sid, exc_info=True)
        return None


def message_lookup(*, to: str, from_: str, limit: int = 50) -> list[RemoteMessage] | None:
    """The most recent messages Twilio holds from `from_` to `to`; None when Twilio cannot be
    asked now (then nothing may be concluded)."""
    kwargs: dict[str, Any] = {"to": to, "limit": limit}
    if from_:
        kwargs["from_"] = from_
    try:
        return [_remote(m) for m in client().messages.list(**kwargs)]
    except (TwilioException, urllib3.exceptions.HTTPError, ValueError):
        logger.warning("Could not list Twilio messages to %s", to, exc_info=True)
        return None


def signature_compute(*, auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature of a form POST to `url`, as Twilio computes it (used by the sandbox)."""
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(auth_token).compute_signature(url, params))


class TwilioGateway:
    """The send pipeline's gateway (messaging.gateway.Gateway) to Twilio, or to whatever
    TWILIO_API_BASE_URL names (the sandbox, Prism, an emulator)."""

    def send(self, *, to: str, body: str, from_: str, token: str) -> SendResult:
        return message_create(
            to=to, body=body, from_=from_, status_callback=status_callback_url(token)
        )

    def lookup(self, *, to: str, from_: str) -> list[RemoteMessage] | None:
        return message_lookup(to=to, from_=from_)


def from_settings() -> TwilioGateway:
    """The gateway the settings describe (credentials and base URL are read per request)."""
    return TwilioGateway()
