"""The HTTP client the gateway gives the Twilio SDK: urllib3's connection pool, not requests.

The SDK builds every request (URL, form body, headers, credentials) and parses every answer; its
default HTTP client hands the request to a requests session, which prepares it again (merging
cookies, headers, hooks and environment settings, walking os.environ for proxies) before
urllib3 sends it: one `messages.create` took 4.24 million instructions through requests, 1.51
through this client (`bench/send/sdk_instructions.py`). The SDK supports this: a client is any
`twilio.http.HttpClient` whose `request` returns the status, text and headers.

What requests did that a Twilio request needs is done here once per client: the proxy of the
environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, with NO_PROXY, for TWILIO_API_BASE_URL's host
or api.twilio.com; credentials in the proxy's URL are sent to the proxy; a proxy without a
scheme is http://), the CA bundle (REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, a file or a directory,
else certifi's, as requests uses), connect and read timeouts. urllib3 does not
retry and follows no redirect, as the SDK's client did not. Its exceptions reach the caller
unwrapped: `twilio_bridge.gateway` sorts them (connection never made: transient; read timeout or
connection lost: ambiguous).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
from typing import Any
from urllib.parse import urlencode

import certifi
import requests.utils
import urllib3
from twilio.http import HttpClient
from twilio.http.response import Response

TWILIO_API = "https://api.twilio.com"
_TWILIO_HOST = re.compile(r"^https://[A-Za-z0-9.-]+\.twilio\.com(?=/|$)")


def rewrite(url: str, base_url: str) -> str:
    """`url` with any https://*.twilio.com host (edges and regions included) replaced by
    `base_url` (the sandbox, Prism, an emulator); unchanged when `base_url` is empty."""
    return _TWILIO_HOST.sub(base_url.rstrip("/"), url) if base_url else url


def _pool(target: str) -> urllib3.PoolManager:
    """A pool for requests to `target`, through the environment's proxy for it if any."""
    bundle = (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
    )
    # A directory of hashed certificates (/etc/ssl/certs) or one file, as requests accepts.
    trust: dict[str, Any] = (
        {"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle}
    )
    proxy = requests.utils.select_proxy(target, requests.utils.get_environ_proxies(target))
    if not proxy:
        return urllib3.PoolManager(**trust)
    # "proxy.example.edu:3128" means http://, as requests reads it.
    proxy = requests.utils.prepend_scheme_if_needed(proxy, "http")
    user, password = requests.utils.get_auth_from_url(proxy)
    headers = urllib3.util.make_headers(proxy_basic_auth=f"{user}:{password}") if user else None
    return urllib3.ProxyManager(proxy, proxy_headers=headers, **trust)


def _encoded(values: dict[str, object]) -> str:
    """Form or query encoding as requests does it: lists repeat the key, None is left out."""
    pairs = []
    for key, value in values.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is not None:
                pairs.append((key, item))
    return urlencode(pairs)


class PooledHttpClient(HttpClient):  # type: ignore[misc]
    """The SDK's requests, sent by urllib3 to `base_url` (or to Twilio when it is empty)."""

    def __init__(self, base_url: str, *, timeout: tuple[float, float]) -> None:
        super().__init__(logging.getLogger("twilio.http_client"), False, None)
        self.base_url = base_url.rstrip("/")
        self.pool = _pool(self.base_url or TWILIO_API)
        self.timeouts = urllib3.Timeout(connect=timeout[0], read=timeout[1])

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        url = rewrite(url, self.base_url)
        self.log_request({"method": method, "url": url, "params": params, "headers": headers or {}})
        if params:
            url = f"{url}?{_encoded(params)}"
        sent = dict(headers or {})
        body: str | None = None
        if sent.get("Content-Type", "").endswith("json"):
            body = None if data is None else json.dumps(data)
        elif data:
            body = _encoded(data)
        if auth is not None:
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            sent["Authorization"] = f"Basic {credentials}"
        answer: Any = self.pool.request(
            method.upper(),
            url,
            body=body,
            headers=sent,
            timeout=self.timeouts if timeout is None else timeout,
            retries=False,
            redirect=False,
        )
        # Leniently, as requests did: a proxy's error page in another charset is still a 502
        # (transient) for the SDK, not an unreadable answer.
        text = answer.data.decode("utf-8", errors="replace")
        response = Response(int(answer.status), text, answer.headers)
        self.log_response(response.status_code, response)
        return response
