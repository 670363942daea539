"""The worker's CPU per text, in process: `sms_send_batch` over 1,000 queued texts cut into
batches of 1, 5 and 50, one lane, against the same process's direct SDK calls to the sandbox
(the reference, measured in the same round). Each size runs twice: through an instant gateway
(the pipeline's own work: reads, claim, decision, writes) and through the Twilio gateway to the
sandbox (what a worker process spends). Creates and drops its own database.

    .venv/bin/python bench/send/batch_cpu.py --db lead_batch_cpu --rounds 3

Prints a Markdown row per batch size and round (CPU milliseconds of this process per text;
PostgreSQL's and the sandbox's own CPU are not in it), then how PostgreSQL planned the
connection's prepared statements (custom plans: planned again at that execution).
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cohortbench

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def _psql(command: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", command], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="h_batch_cpu")
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    port = cohortbench.free_port()
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{args.db}",
        TWILIO_API_BASE_URL=f"http://127.0.0.1:{port}",
        PUBLIC_BASE_URL="http://127.0.0.1:9",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
    )
    _psql(f"DROP DATABASE IF EXISTS {args.db}")
    _psql(f"CREATE DATABASE {args.db}")
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    sandbox = subprocess.Popen(
        [PY, "manage.py", "run_sandbox", "--port", str(port), "--no-callbacks", "--no-log"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _run(args, port)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=15)
        from django.db import connection

        connection.close()
        _psql(f"DROP DATABASE IF EXISTS {args.db}")


def _run(args: Any, port: int) -> None:
    cohortbench.wait_http(f"http://127.0.0.1:{port}/_sandbox/requests")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()

    from messaging import enqueue, sending, services
    from messaging.gateway import Outcome, SendResult
    from messaging.models import Message
    from twilio_bridge import gateway

    user, students = cohortbench.sandbox_world(args.texts)
    sender = user.person

    sids = itertools.count()

    class Instant:
        """Accepts every text at once: what is left is the pipeline's own work."""

        def send(self, *, to: str, body: str, from_: str, token: str) -> SendResult:
            return SendResult(Outcome.ACCEPTED, sid=f"SM{next(sids):032x}")

        def lookup(self, *, to: str, from_: str) -> list[Any]:
            return []

    def queued() -> list[int]:
        Message.objects.all().delete()
        batches: list[list[int]] = []
        saved, enqueue.sms_batches = enqueue.sms_batches, batches.append  # type: ignore[assignment]
        try:
            services.message_send_bulk(sender=sender, recipient_ids=students, body="Hello")
        finally:
            enqueue.sms_batches = saved  # type: ignore[assignment]
        return [pk for batch in batches for pk in batch]

    def direct() -> float:
        client = cohortbench.sdk_client()
        started = time.process_time()
        for i in range(args.texts):
            client.messages.create(
                to=f"+1202555{i:04d}",
                from_="+12015550100",
                body="Hello",
                status_callback="http://127.0.0.1:9/twilio/sms/status/?token=x",
            )
        return (time.process_time() - started) * 1000 / args.texts

    def batches(size: int, through: Any) -> float:
        ids = queued()
        started = time.process_time()
        for start in range(0, len(ids), size):
            sending.sms_send_batch(message_ids=ids[start : start + size], gateway=through)
        took = (time.process_time() - started) * 1000 / args.texts
        assert Message.objects.filter(status="sent").count() == args.texts
        return took

    sending.IN_FLIGHT = 1  # one lane: every query is this thread's
    batches(50, Instant())  # warm-up: statements prepared, clients built
    print("| round | batch size | pipeline's own work | through the SDK to the sandbox | "
          "direct SDK call (reference) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for round_ in range(1, args.rounds + 1):
        for size in (1, 5, 50):
            own = batches(size, Instant())
            real = batches(size, gateway.from_settings())
            reference = direct()
            print(
                f"| {round_} | {size} | {own:.2f} ms | {real:.2f} ms | {reference:.2f} ms |",
                flush=True,
            )
    # How PostgreSQL plans the prepared reads of a new connection whose batches are single texts
    # (as a steady stream of single sends drains): a custom plan is a planning at that
    # execution (messaging.compiled plans each once: custom stays 0).
    from django.db import connection

    from messaging import selectors

    connection.close()
    batches(1, Instant())

    labels = {
        selectors._send_context_read._name: "the send context",
        selectors._people_read._name: "the batch's recipients (a list of ids)",
        services._queued_read._name: "the batch's queued texts (a list of ids)",
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements")
        planned = {name: (generic, custom) for name, generic, custom in cursor.fetchall()}
    print(
        "| the worker's prepared read | generic plans | custom plans (planned at that execution) |"
    )
    print("|---|---|---|")
    for name, label in labels.items():
        generic, custom = planned.get(name, (0, 0))
        print(f"| {label} | {generic} | {custom} |")


if __name__ == "__main__":
    main()
