"""`make run`, as the README promises: migrate, seed the demo, print the logins, start the Twilio
sandbox and the server; an advisor's text from the person page ends delivered through the
sandbox's signed status callbacks. Run exactly as an operator would, in the embedded default
(only the database file and the ports are chosen by the test), with PUBLIC_BASE_URL unset."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.config.subprocess_env import BASE_DIR, clean_env
from tests.flows.test_person_page_flow import conversation_item, hidden, login
from tests.twilio_bridge.test_sandbox_commands import free_port, wait_http


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop make and everything it started (runserver's autoreloader child, the sandbox)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def _sms_student(session: requests.Session, base: str) -> int:
    """A seeded student whose route is SMS (students come after the five staff)."""
    for person_id in range(60, 5, -1):
        route = session.get(f"{base}/api/v1/people/{person_id}/sms-route/", timeout=10)
        if route.status_code == 200 and route.json()["channel"] == "sms":
            return person_id
    raise AssertionError("the demo has no student with an SMS route")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_serves_the_demo_and_a_text_from_the_person_page_ends_delivered(
    tmp_path: Path,
) -> None:
    web, box = free_port(), free_port()
    base = f"http://127.0.0.1:{web}"
    log = tmp_path / "make-run.log"
    env = clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        DEMO_ADDR=f"127.0.0.1:{web}",
        SANDBOX_PORT=str(box),
        PYTHONUNBUFFERED="1",  # the log is read while make runs
    )
    with log.open("wb") as out:
        # -o: the test's own virtualenv is there already; make must not reinstall it.
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "-o", ".venv/.installed", "run"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert wait_http(f"{base}/healthz", timeout=120).status_code == 200
        output = log.read_text()
        assert "manage.py runserver_demo 127.0.0.1:" in output
        assert f"Twilio sandbox on http://127.0.0.1:{box}; status callbacks to {base}" in output
        assert f"Log in at {base}/ as admin" in output
        printed = re.search(
            r"as admin \(administrator\), advisor1 / advisor2 / advisor3 \(advisors\) or "
            r"faculty1 \(faculty, may not text\); password: (\S+)",
            output,
        )
        assert printed is not None, output
        # Quiet hours (21:00-08:00 in the demo's time zone) hold a text sent at night until the
        # morning, and a subprocess's clock cannot be fixed: the administrator turns them off
        # first (the API's PATCH, as the General Settings tab would), so the outcome does not
        # depend on the hour the suite runs.
        admin = login(base, "admin", printed.group(1))
        quiet_off = admin.patch(
            f"{base}/api/v1/sms-configuration/",
            json={"quiet_hours_start": None, "quiet_hours_end": None},
            headers={"X-CSRFToken": admin.cookies["csrftoken"], "Referer": f"{base}/"},
            timeout=10,
        )
        assert quiet_off.status_code == 200, quiet_off.text
        assert quiet_off.json()["quiet_hours_start"] is None

        session = login(base, "advisor1", printed.group(1))
        student_id = _sms_student(session, base)

        page = session.get(f"{base}/people/{student_id}/", timeout=10).text
        sent = session.post(
            f"{base}/people/{student_id}/send/",
            data={"body": "Demo check", "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken")},
            timeout=10,
        )
        found = re.search(r"#message-(\d+)$", sent.url)
        assert sent.status_code == 200 and found is not None
        message_id = int(found.group(1))
        assert '<span class="badge">SMS</span>' in conversation_item(sent.text, message_id)

        deadline = time.monotonic() + 20
        item = ""
        while time.monotonic() < deadline:
            page = session.get(f"{base}/people/{student_id}/", timeout=10).text
            item = conversation_item(page, message_id)
            if "delivered</span>" in item:
                break
            time.sleep(0.2)
        assert '<span class="badge badge-ok">delivered</span>' in item
        sandbox_log = requests.get(f"http://127.0.0.1:{box}/_sandbox/requests", timeout=10).json()
        assert [r["form"]["Body"] for r in sandbox_log if r["action"] == "create"] == ["Demo check"]
    finally:
        _stop(proc)
    # The server is gone with make.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/healthz", timeout=2)
