"""The gateway: URL rewriting, the status-callback URL, and how each Twilio outcome is sorted."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from tests.twilio_bridge.local_http import LocalServer, QuietHandler
from twilio_bridge import gateway
from twilio_bridge.sandbox import Sandbox


@pytest.fixture(autouse=True)
def client_fresh() -> Any:
    """Each test builds its own client: a client reads the environment (proxies, CA bundle)
    when it is built, and these tests change it."""
    gateway.client_forget()
    yield
    gateway.client_forget()


@pytest.mark.parametrize(
    "url",
    [
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
        "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
        "https://api.sydney.au1.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
    ],
)
def test_every_twilio_host_including_edges_and_regions_is_rewritten_to_the_base_url(
    url: str,
) -> None:
    client = gateway.RewritingHttpClient("http://127.0.0.1:9999/")
    assert client.rewrite(url) == "http://127.0.0.1:9999/2010-04-01/Accounts/AC1/Messages.json"


def test_other_hosts_are_left_alone() -> None:
    client = gateway.RewritingHttpClient("http://127.0.0.1:9999")
    assert client.rewrite("https://example.com/twilio.com/x") == "https://example.com/twilio.com/x"
    assert client.rewrite("https://eviltwilio.com.example/x") == "https://eviltwilio.com.example/x"


def test_the_sdk_reaches_the_sandbox_even_with_an_edge_and_region_set(
    sandbox: Sandbox,
) -> None:
    client = gateway.client()
    client.edge, client.region = "dublin", "ie1"

    message = client.messages.create(to="+15005550006", from_="+15005550006", body="x")

    assert message.sid in sandbox.messages
    client.edge = client.region = None


def test_the_status_callback_url_carries_the_message_token(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "https://sms.example.edu"
    assert gateway.status_callback_url("abc") == (
        "https://sms.example.edu/twilio/sms/status/?token=abc"
    )


def test_an_accepted_message_comes_back_with_its_sid(sandbox: Sandbox) -> None:
    result = gateway.message_create(
        to="+15005550006", body="Hi", from_="+12015550100", status_callback=""
    )
    assert result.outcome == gateway.ACCEPTED
    assert result.sid.startswith("SM")
    assert result.sid in sandbox.messages


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
def test_throttling_and_server_errors_are_transient(
    sandbox: Sandbox, status: int, code: int
) -> None:
    sandbox.fail_next(status=status, code=code)
    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1201", status_callback="")
    assert (result.outcome, result.http_status, result.error_code) == (
        gateway.TRANSIENT,
        status,
        code,
    )


@pytest.mark.parametrize("code", [21211, 21610, 21614, 21408])
def test_a_twilio_4xx_with_an_error_code_is_a_refusal(sandbox: Sandbox, code: int) -> None:
    to = {21211: "+15005550001", 21610: "+15005550004", 21614: "+15005550009"}.get(
        code, "+15005550003"
    )
    result = gateway.message_create(to=to, body="Hi", from_="+12015550100", status_callback="")
    assert (result.outcome, result.error_code, result.http_status) == (gateway.REFUSED, code, 400)


def test_wrong_credentials_are_not_a_refusal_of_the_text(sandbox: Sandbox, settings: Any) -> None:
    settings.TWILIO_AUTH_TOKEN = "wrong"
    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")
    assert (result.outcome, result.http_status, result.error_code) == (
        gateway.TRANSIENT,
        401,
        20003,
    )
    assert sandbox.messages == {}


def test_a_refused_connection_is_transient(settings: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"
    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")
    assert result.outcome == gateway.TRANSIENT


def test_a_read_timeout_is_ambiguous(sandbox: Sandbox, settings: Any) -> None:
    settings.TWILIO_READ_TIMEOUT = 0.2
    sandbox.hang_next(seconds=0.6)
    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")
    assert result.outcome == gateway.AMBIGUOUS


def test_a_connection_dropped_after_the_request_left_is_ambiguous(settings: Any) -> None:
    """A server that reads the request and closes without answering."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def drop() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=drop, daemon=True)
    thread.start()
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"

    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")

    thread.join(timeout=5)
    server.close()
    assert result.outcome == gateway.AMBIGUOUS


def test_lookup_finds_messages_by_number_and_sender(sandbox: Sandbox) -> None:
    for body in ("one", "two"):
        gateway.message_create(
            to="+15005550006", body=body, from_="+12015550100", status_callback=""
        )
    gateway.message_create(
        to="+15005550006", body="other", from_="+12015550101", status_callback=""
    )

    found = gateway.message_lookup(to="+15005550006", from_="+12015550100")

    assert found is not None
    assert [m.body for m in found] == ["two", "one"]


def test_lookup_says_none_when_twilio_cannot_be_asked(settings: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"
    assert gateway.message_lookup(to="+15005550006", from_="+1") is None


def test_fetch_reads_a_message_back(sandbox: Sandbox) -> None:
    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1201", status_callback="")
    fetched = gateway.message_fetch(result.sid)
    assert fetched is not None
    assert (fetched.sid, fetched.body, fetched.status) == (result.sid, "Hi", "queued")
    assert gateway.message_fetch("SM" + "0" * 32) is None


def test_the_computed_signature_validates_with_twilio_request_validator() -> None:
    url = "https://sms.example.edu/twilio/sms/status/?token=t"
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    signature = gateway.signature_compute(auth_token="secret", url=url, params=params)
    assert RequestValidator("secret").validate(url, params, signature)
    assert not RequestValidator("other").validate(url, params, signature)


class _Proxy(LocalServer):
    """A forward HTTP proxy that answers every request itself as Twilio would accept a text,
    recording the absolute URLs it was asked for."""

    def __init__(self) -> None:
        seen: list[str] = []
        authorizations: list[str | None] = []
        answers: list[tuple[int, str, bytes]] = []  # the next answers, else an acceptance

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                seen.append(self.path)
                authorizations.append(self.headers.get("Proxy-Authorization"))
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, content_type, body = (
                    answers.pop(0)
                    if answers
                    else (201, "application/json", b'{"sid": "SMproxied", "status": "queued"}')
                )
                self.answer(status, body, content_type)

            def do_GET(self) -> None:
                seen.append(self.path)
                self.answer(200, b'{"messages": [], "next_page_uri": null}')

            def do_CONNECT(self) -> None:
                # A tunnel to an https:// host: this proxy wants other credentials.
                seen.append(f"CONNECT {self.path}")
                self.send_response(407)
                self.send_header("Proxy-Authenticate", 'Basic realm="campus"')
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.seen = seen
        self.authorizations = authorizations
        self.answers = answers
        super().__init__(Handler)


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    box = _Proxy()
    yield box
    box.close()


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_proxy_named_in_the_environment_carries_the_requests_to_twilio(
    proxy: _Proxy, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An institution whose servers reach the internet through a proxy sets HTTP(S)_PROXY: the
    texts go through it (here to a host only the proxy can reach)."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    settings.TWILIO_API_BASE_URL = "http://twilio-behind-proxy.invalid"

    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")

    assert (result.outcome, result.sid) == (gateway.ACCEPTED, "SMproxied")
    assert len(proxy.seen) == 1
    assert proxy.seen[0].startswith("http://twilio-behind-proxy.invalid/2010-04-01/Accounts/")


def test_the_credentials_in_the_proxy_url_are_sent_to_the_proxy(
    proxy: _Proxy, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://relay:s3cret@"))
    settings.TWILIO_API_BASE_URL = "http://twilio-behind-proxy.invalid"

    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")

    assert result.outcome == gateway.ACCEPTED
    assert proxy.authorizations == ["Basic cmVsYXk6czNjcmV0"]  # relay:s3cret


def test_a_proxy_that_cannot_be_reached_is_transient(
    proxy: _Proxy, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No connection to the proxy: the text certainly did not leave, so it may be sent again."""
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_unused_port()}")
    settings.TWILIO_API_BASE_URL = "http://twilio-behind-proxy.invalid"

    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")

    assert result.outcome == gateway.TRANSIENT


def test_a_proxy_error_page_in_another_charset_is_a_transient_failure(
    proxy: _Proxy, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy answers 502 with a Latin-1 page: Twilio was not reached, so the text may be sent
    again; it is not an unreadable answer from Twilio (which would need a lookup)."""
    page = "<p>Passerelle indisponible, réessayez</p>".encode("latin-1")
    proxy.answers.append((502, "text/html; charset=latin-1", page))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    settings.TWILIO_API_BASE_URL = "http://twilio-behind-proxy.invalid"

    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")

    assert (result.outcome, result.http_status) == (gateway.TRANSIENT, 502)


def test_a_proxy_of_a_kind_that_cannot_be_used_is_transient(
    proxy: _Proxy, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ALL_PROXY=socks5://...: no request can be made (the message is sent again later, once
    the setting is mended), rather than one whose fate must be looked up."""
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    settings.TWILIO_API_BASE_URL = "http://twilio-behind-proxy.invalid"

    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")

    assert result.outcome == gateway.TRANSIENT
    assert proxy.seen == []


def test_a_proxy_named_without_a_scheme_is_an_http_proxy(
    proxy: _Proxy, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url.removeprefix("http://"))  # "127.0.0.1:port"
    settings.TWILIO_API_BASE_URL = "http://twilio-behind-proxy.invalid"

    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")

    assert result.outcome == gateway.ACCEPTED
    assert len(proxy.seen) == 1


def test_a_proxy_refusing_the_tunnel_to_twilio_is_transient(
    proxy: _Proxy, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy answers the CONNECT to Twilio's https host with 407 (other credentials
    needed): no byte of the text reached Twilio, so it is sent again later, not looked up."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    settings.TWILIO_API_BASE_URL = "https://twilio-behind-proxy.invalid"

    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")

    assert result.outcome == gateway.TRANSIENT
    assert proxy.seen == ["CONNECT twilio-behind-proxy.invalid:443"]


def test_query_values_that_are_none_are_left_out_as_requests_does(
    proxy: _Proxy, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    settings.TWILIO_API_BASE_URL = "http://twilio-behind-proxy.invalid"

    http = gateway.client().http_client
    http.request("GET", "http://twilio-behind-proxy.invalid/x.json", params={"To": "+1", "F": None})
    http.request("GET", "http://twilio-behind-proxy.invalid/x.json", params={"T": ["a", None]})

    assert proxy.seen == [
        "http://twilio-behind-proxy.invalid/x.json?To=%2B1",
        "http://twilio-behind-proxy.invalid/x.json?T=a",
    ]


def test_no_proxy_is_honoured_for_the_host_twilio_is_reached_at(
    sandbox: Sandbox, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_unused_port()}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    result = gateway.message_create(to="+15005550006", body="Hi", from_="+1", status_callback="")

    assert result.outcome == gateway.ACCEPTED
    assert result.sid in sandbox.messages


def test_the_environment_is_read_when_the_client_is_built_not_for_every_text(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests looks for proxies in os.environ twice per request when its session trusts the
    environment (about a quarter of the CPU of one SDK call); the gateway's client reads the
    environment once, when it is built."""
    import requests.utils

    gateway.message_create(to="+15005550006", body="0", from_="+1", status_callback="")
    walks: list[str] = []
    real = requests.utils.getproxies

    def counted() -> Any:
        walks.append("getproxies")
        return real()

    monkeypatch.setattr(requests.utils, "getproxies", counted)

    for body in ("1", "2", "3"):
        result = gateway.message_create(
            to="+15005550006", body=body, from_="+1", status_callback=""
        )
        assert result.outcome == gateway.ACCEPTED

    assert walks == []


def test_a_ca_bundle_named_in_the_environment_is_kept_for_twilio_requests(
    settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    bundle = tmp_path / "institution-ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    settings.TWILIO_API_BASE_URL = "https://bundle-test.invalid"

    assert gateway.client().http_client.pool.connection_pool_kw["ca_certs"] == str(bundle)


def test_a_ca_directory_named_in_the_environment_is_used_as_a_directory(
    settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """REQUESTS_CA_BUNDLE=/etc/ssl/certs (hashed certificates), as requests accepts it; read as a
    file, every TLS connection would fail before anything is sent."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path))
    settings.TWILIO_API_BASE_URL = "https://bundle-test.invalid"

    kept = gateway.client().http_client.pool.connection_pool_kw
    assert (kept.get("ca_cert_dir"), kept.get("ca_certs")) == (str(tmp_path), None)
