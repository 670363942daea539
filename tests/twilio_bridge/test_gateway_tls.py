"""The gateway's client over TLS, as it reaches Twilio in production: the certificate is checked
against the CA bundle (certifi's, or the one the environment names), also through a proxy's
CONNECT tunnel. A private CA (trustme) stands for an institution's own."""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from tests.twilio_bridge.local_http import LocalServer, QuietHandler
from twilio_bridge import gateway

HOST = "twilio-tls.test"  # only the proxy knows where it is


class _TlsTwilio(LocalServer):
    """An HTTPS server on 127.0.0.1 whose certificate, for `localhost` and HOST, is signed by
    `ca`; it accepts every text, recording the paths asked."""

    def __init__(self, ca: trustme.CA) -> None:
        seen: list[str] = []

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                seen.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.answer(201, b'{"sid": "SMtls", "status": "queued"}')

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("localhost", HOST).configure_cert(context)
        self.seen = seen
        super().__init__(Handler, tls=context)


class _TunnelProxy(LocalServer):
    """A proxy that answers CONNECT by opening a tunnel to the TLS server, whatever the host
    asked (so HOST needs no DNS), and records the CONNECT lines."""

    def __init__(self, target_port: int) -> None:
        connects: list[str] = []

        class Handler(QuietHandler):
            def do_CONNECT(self) -> None:
                connects.append(self.path)
                upstream = socket.create_connection(("127.0.0.1", target_port))
                self.send_response(200, "Connection established")
                self.end_headers()
                sockets = [self.connection, upstream]
                while True:
                    readable, _, _ = select.select(sockets, [], [], 5)
                    if not readable:
                        break
                    for source in readable:
                        data = source.recv(65536)
                        if not data:
                            upstream.close()
                            return
                        (upstream if source is self.connection else self.connection).sendall(data)
                upstream.close()

        self.connects = connects
        super().__init__(Handler)


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_bundle(ca: trustme.CA, tmp_path: Any) -> str:
    """The private CA written out as a bundle file, as an institution would give it."""
    bundle = tmp_path / "institution-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return str(bundle)


@pytest.fixture
def tls_twilio(ca: trustme.CA, monkeypatch: pytest.MonkeyPatch) -> Iterator[_TlsTwilio]:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "")
    box = _TlsTwilio(ca)
    gateway.client_forget()
    yield box
    gateway.client_forget()
    box.close()


def _send() -> Any:
    return gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")


def test_a_certificate_signed_by_the_ca_bundle_named_in_the_environment_is_trusted(
    tls_twilio: _TlsTwilio, ca_bundle: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_bundle)
    settings.TWILIO_API_BASE_URL = f"https://localhost:{tls_twilio.port}"

    result = _send()

    assert (result.outcome, result.sid) == (gateway.ACCEPTED, "SMtls")
    assert len(tls_twilio.seen) == 1


def test_a_certificate_no_trusted_ca_signed_is_refused_before_anything_is_sent(
    tls_twilio: _TlsTwilio, settings: Any
) -> None:
    """With certifi's bundle only, the private CA's certificate is refused: the client checks
    certificates (nothing reaches the server that could be an impostor). No request left, so
    the text is transient (sent again later, then by email), not one to look up."""
    settings.TWILIO_API_BASE_URL = f"https://localhost:{tls_twilio.port}"

    result = _send()

    assert result.outcome == gateway.TRANSIENT
    assert "CERTIFICATE_VERIFY_FAILED" in result.detail
    assert tls_twilio.seen == []


def test_twilio_over_tls_through_a_proxy_tunnel(
    tls_twilio: _TlsTwilio, ca_bundle: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As at an institution whose servers reach the internet only through a proxy: CONNECT to
    Twilio's host, then TLS inside the tunnel, the certificate checked against the host name."""
    proxy = _TunnelProxy(tls_twilio.port)
    try:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_bundle)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        settings.TWILIO_API_BASE_URL = f"https://{HOST}"

        result = _send()

        assert (result.outcome, result.sid) == (gateway.ACCEPTED, "SMtls")
        assert proxy.connects == [f"{HOST}:443"]
        assert tls_twilio.seen[0].startswith("/2010-04-01/Accounts/")
    finally:
        proxy.close()
