"""Instructions per Twilio SDK call (`messages.create` to the sandbox), counted by valgrind's
callgrind, for three HTTP clients: the SDK's default (requests, reading the environment for
proxies on every request), the same with the environment left unread, and the gateway's
(`twilio_bridge.transport.PooledHttpClient`, urllib3). Instruction counts do not drift with the
machine's load as times do; the ratios compare the clients within one run.

    .venv/bin/python bench/send/sdk_instructions.py --calls 200

Each client is counted twice under callgrind, once making no call after start-up and once
making `--calls` calls; the difference divided by the calls is one call's cost. Starts its own
sandbox (no database needed). Needs valgrind (`apt-get install valgrind`).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import cohortbench

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ("sdk", "sdk-environment-unread", "gateway")


def _calls(client_kind: str, calls: int) -> None:
    """Run inside valgrind: build the client, warm it with 5 calls, then make `calls`."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()

    from twilio_bridge import gateway

    if client_kind == "gateway":
        client = gateway.client()
    else:
        client = cohortbench.sdk_client()
        client.http_client.session.trust_env = client_kind == "sdk"

    def send(count: int) -> None:
        for i in range(count):
            message = client.messages.create(
                to=f"+1202555{i % 200:04d}",
                from_="+12015550100",
                body="Hello",
                status_callback="http://127.0.0.1:9/twilio/sms/status/?token=x",
            )
            assert message.sid

    send(5)
    send(calls)


def _instructions(client_kind: str, calls: int, env: dict[str, str]) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--inside",
            client_kind,
            "--calls",
            str(calls),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", out.stderr)
    assert found, out.stderr[-2000:]
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--inside", choices=CLIENTS)
    args = parser.parse_args()
    if args.inside:
        _calls(args.inside, args.calls)
        return

    port = cohortbench.free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "manage.py", "run_sandbox", "--port", str(port)]
    sandbox = subprocess.Popen(
        [*command, "--no-callbacks", "--no-log"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        per_call = {}
        for kind in CLIENTS:
            start_up = _instructions(kind, 0, env)
            per_call[kind] = (_instructions(kind, args.calls, env) - start_up) / args.calls
        print("| HTTP client of the SDK | instructions per call | against the SDK's default |")
        print("|---|---|---|")
        for kind in CLIENTS:
            print(
                f"| {kind} | {per_call[kind] / 1e6:.2f} million | "
                f"{per_call[kind] / per_call['sdk']:.2f} |"
            )
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
