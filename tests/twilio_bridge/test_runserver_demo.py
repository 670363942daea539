"""`runserver_demo` without PUBLIC_BASE_URL: the sandbox calls back the server it starts."""

from __future__ import annotations

import pytest

from twilio_bridge.management.commands.runserver_demo import public_base_url_for


@pytest.mark.parametrize(
    ("addrport", "origin"),
    [
        ("8000", "http://127.0.0.1:8000"),
        ("127.0.0.1:18000", "http://127.0.0.1:18000"),
        ("0.0.0.0:8000", "http://127.0.0.1:8000"),
        ("localhost:9000", "http://localhost:9000"),
        ("[::1]:8000", "http://[::1]:8000"),
        ("[::]:8000", "http://127.0.0.1:8000"),
    ],
)
def test_the_callback_origin_is_the_servers_own_address(addrport: str, origin: str) -> None:
    assert public_base_url_for(addrport) == origin
