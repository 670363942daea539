"""The inbox benchmark: query counts of the inbox page and the live endpoint on a large data set,
then 100 simulated open pages polling the live endpoint once a second against gunicorn on
127.0.0.1, with a bare Django view polled the same way in the same run as the reference.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_inbox_bench \\
        .venv/bin/python bench/inbox/run.py

Generates the data set first when it is missing (bench/inbox/generate.py). Bounded: ROUNDS
rounds of SECONDS per side, PAGES pollers, each at most one request a second; 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.inbox.settings"

from bench.routing.benchdb import django_setup

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def in_process_measures() -> dict[str, object]:
    """Query counts (and times) of the inbox page and the live endpoint, through Django's test
    client in this process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from messaging import inbox, live
    from messaging.conversation import Owner
    from messaging.models import Message
    from people.models import Person

    out: dict[str, object] = {"messages": Message.objects.count()}
    for name, username in (("large", "bench-staff-0"), ("small", "bench-staff-20")):
        staff = Person.objects.select_related("user").get(user__username=username)
        client = Client()
        client.force_login(staff.user)
        for label, path in ((f"{name}", "/inbox/"), (f"{name}_page_10", "/inbox/?page=10")):
            times = []
            for _ in range(5):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    answer = client.get(path)
                    times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.status_code
            out[f"inbox_{label}_queries"] = len(queries)
            out[f"inbox_{label}_ms"] = round(statistics.median(times) * 1000, 1)
        out[f"inbox_{name}_conversations"] = inbox.conversation_groups(Owner(staff.pk)).count()
        token = live.token_issue(live.Scope(user_id=staff.user_id or 0))
        client = Client(HTTP_X_LIVE_TOKEN=token)
        cursor = client.get("/inbox/changes/").json()["cursor"]
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(f"/inbox/changes/?since={cursor}")
        assert answer.status_code == 204
        out[f"live_{name}_queries"] = len(queries)
    return out


class Poller(threading.Thread):
    """One open page: a request a second (at its own offset), for `seconds`."""

    def __init__(self, port: int, path: str, token: str, start_at: float, seconds: float) -> None:
        super().__init__(daemon=True)
        self.port, self.path, self.token = port, path, token
        self.start_at, self.seconds = start_at, seconds
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.cursor = ""

    def run(self) -> None:
        due = self.start_at
        end = self.start_at + self.seconds
        while due < end:
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            path = self.path + (f"?since={self.cursor}" if self.token else "")
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request("GET", path, headers={"X-Live-Token": self.token})
                response = connection.getresponse()
                body = response.read()
                status = response.status
            except OSError:  # a timeout counts as its 10 s and as status 0
                body, status = b"", 0
            finally:
                connection.close()
            self.latencies.append(time.perf_counter() - started)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200 and self.token:
                self.cursor = json.loads(body)["cursor"]
            due += 1.0


def replies_writer(stop: threading.Event) -> None:
    """A new reply a second to one of the staff members, as students write in."""
    from django.db import connection

    from messaging.models import Message
    from people.models import Person

    staff = list(
        Person.objects.filter(user__username__startswith="bench-staff-").values_list(
            "pk", flat=True
        )
    )
    student = Person.objects.filter(first_name="Student").values_list("pk", flat=True).first()
    n = 0
    while not stop.wait(1.0):
        Message.objects.create(
            direction="inbound",
            channel="sms",
            body="bench live reply",
            status="received",
            sender_id=student,
            recipient_id=staff[n % len(staff)],
            attributed_to_id=staff[n % len(staff)],
            attribution="reply",
        )
        n += 1
    connection.close()


def load_round(port: int, path: str, tokens: list[str], pages: int, seconds: float) -> Poller:
    start = time.perf_counter() + 0.5
    pollers = [
        Poller(port, path, tokens[i % len(tokens)] if tokens else "", start + i / pages, seconds)
        for i in range(pages)
    ]
    for p in pollers:
        p.start()
    for p in pollers:
        p.join(timeout=seconds + 30)
    merged = Poller(port, path, "", 0, 0)
    for p in pollers:
        merged.latencies += p.latencies
        for k, v in p.statuses.items():
            merged.statuses[k] = merged.statuses.get(k, 0) + v
    return merged


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--per-conversation", type=int, default=100)
    args = parser.parse_args()
    django_setup()
    from messaging import live
    from messaging.models import Message
    from people.models import Person

    if Message.objects.count() < args.conversations * args.per_conversation:
        from bench.inbox.generate import generate

        print("generating:", generate(args.conversations, args.per_conversation), flush=True)
    for key, value in in_process_measures().items():
        print(f"{key}: {value}", flush=True)

    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.inbox.settings", "DJANGO_DEBUG": "0"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi:application",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    stop = threading.Event()
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        users = Person.objects.filter(user__username__startswith="bench-staff-").values_list(
            "user_id", flat=True
        )
        tokens = [live.token_issue(live.Scope(user_id=u)) for u in users if u is not None]
        writer = threading.Thread(target=replies_writer, args=(stop,), daemon=True)
        writer.start()
        load_round(port, "/bench/bare/", [], 20, 5)  # warm up both
        load_round(port, "/inbox/changes/", tokens, 20, 5)
        results: dict[str, list[float]] = {"live": [], "bare": []}
        statuses: dict[str, dict[int, int]] = {"live": {}, "bare": {}}
        for round_no in range(1, args.rounds + 1):
            for side, path, side_tokens in (
                ("live", "/inbox/changes/", tokens),
                ("bare", "/bench/bare/", []),
            ):
                merged = load_round(port, path, side_tokens, args.pages, args.seconds)
                results[side] += merged.latencies
                for k, v in merged.statuses.items():
                    statuses[side][k] = statuses[side].get(k, 0) + v
                print(
                    f"round {round_no} {side}: {len(merged.latencies)} requests, "
                    f"p50 {percentile(merged.latencies, 50):.1f} ms, "
                    f"p99 {percentile(merged.latencies, 99):.1f} ms, statuses {merged.statuses}",
                    flush=True,
                )
        for side in ("live", "bare"):
            values = results[side]
            print(
                f"{side}: {len(values)} requests; p50 {percentile(values, 50):.1f} ms, "
                f"p90 {percentile(values, 90):.1f} ms, p99 {percentile(values, 99):.1f} ms, "
                f"max {max(values) * 1000:.1f} ms; statuses {statuses[side]}"
            )
        ratio = percentile(results["live"], 99) / percentile(results["bare"], 99)
        print(f"p99 live / bare: {ratio:.2f}")
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
