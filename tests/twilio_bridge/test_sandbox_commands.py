"""`run_sandbox` and `runserver_demo` start what they promise, on the ports they are given."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.core.management import call_command

from tests.twilio_bridge.test_sandbox import Receiver

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_run_sandbox_inbound_posts_one_signed_message(settings: Any) -> None:
    receiver = Receiver()
    settings.PUBLIC_BASE_URL = receiver.url
    out = StringIO()
    try:
        call_command(
            "run_sandbox", "--inbound", "+12025550100", "+12015550100", "hello", stdout=out
        )
    finally:
        receiver.stop()
    assert "webhook answered 200" in out.getvalue()
    assert receiver.posts[0]["form"]["Body"] == "hello"


def test_run_sandbox_serves_the_messages_api_until_stopped() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_sandbox", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        response = wait_http(
            f"http://127.0.0.1:{port}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Messages.json"
        )
        assert response.status_code == 401  # Basic auth is required
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.skipif(
    bool(os.environ.get("TWILIO_ACCOUNT_SID")), reason="the demo runs with the sandbox only"
)
def test_runserver_demo_starts_the_sandbox_and_the_web_server(tmp_path: Path) -> None:
    web, box = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "SANDBOX_PORT": str(box),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web}",
    }
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runserver_demo", f"127.0.0.1:{web}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert wait_http(f"http://127.0.0.1:{web}/healthz").status_code == 200
        assert wait_http(f"http://127.0.0.1:{box}/_sandbox/requests").json() == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)
