"""Benchmark of the send path: API request -> PostgreSQL -> Redis -> one Celery worker -> the
sandbox's acceptance, against the sandbox's own rate for direct SDK calls, in the same run.

    .venv/bin/python bench/send/run.py --texts 1000 --clients 8
    .venv/bin/python bench/send/run.py --texts 1000 --clients 8 --cohort-only --rounds 5

Needs PostgreSQL and Redis on 127.0.0.1. Creates and drops its own database
(`h_sending_bench` unless --db), uses Redis database 3 unless --redis-db. Starts and stops the
sandbox, gunicorn (4 sync workers) and one Celery worker (prefork, 4 processes); prints a
Markdown row per measure. The cohort rows come in rounds (--rounds): the reference again, then
one cohort with a plain body and one with merge fields, each ratio against its own round's
reference; pacing per sender number is switched off where the configuration has it.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import cohortbench
import requests

ROOT = Path(__file__).resolve().parents[2]
COHORT_PROBE = 200
PY = sys.executable


def _idle_now() -> tuple[float, float]:
    """(idle, total) jiffies of all cores so far, from /proc/stat (Linux)."""
    with open("/proc/stat") as stat:
        fields = [float(x) for x in stat.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--db", default="h_sending_bench")
    parser.add_argument("--redis-db", type=int, default=3)
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--server",
        choices=["gunicorn", "gunicorn-gthread", "granian"],
        default="gunicorn",
        help="the WSGI server of the API (gunicorn's sync workers as in the Dockerfile; "
        "gunicorn-gthread and granian keep connections alive)",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="the Celery worker's processes")
    parser.add_argument(
        "--reference",
        choices=["sdk", "gateway"],
        default="sdk",
        help="the reference's Twilio client: the SDK's defaults (requests), or the gateway's "
        "own client (urllib3's pool, proxies read once)",
    )
    parser.add_argument(
        "--cohort-only", action="store_true", help="skip the one-text-per-request rows"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="cohort rounds (plain, then merged), each against the reference measured just before",
    )
    args = parser.parse_args()

    sandbox_port, web_port = cohortbench.free_port(), cohortbench.free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.db}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{sandbox_port}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CELERY_DB_REUSE_MAX": "1000",
        # One token sends every text: the API's per-caller limit must not be what is measured.
        "API_THROTTLE_RATE": "1000000/min",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {args.db}"],
        check=True,
    )
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {args.db}"],
        check=True,
    )
    subprocess.run(
        ["redis-cli", "-n", str(args.redis_db), "flushdb"], check=True, capture_output=True
    )
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from messaging import sending
    from messaging.models import Message, Status
    from twilio_bridge import gateway

    user, students = cohortbench.sandbox_world(max(200, args.texts))
    pacing_off = _pacing_off()
    token = Token.objects.create(user=user).key

    procs: list[subprocess.Popen[bytes]] = []

    parts: dict[int, str] = {}  # process group -> part of the run

    def cpu_now() -> Counter[str]:
        """CPU seconds used so far by everything this run drives: this process (the clients),
        the processes it started (sandbox, web server, worker) and PostgreSQL's backends serving
        its database. Counted per text, it does not depend on what else runs on the machine."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [args.db])
            backends = {row[0] for row in cursor.fetchall()}
        used = Counter(
            cohortbench.cpu_of_processes(
                lambda pid, pgid: "postgres" if pid in backends else parts.get(pgid)
            )
        )
        used["client"] += time.process_time()
        return used

    cpu: dict[str, Counter[str]] = {}

    def start(cmd: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        procs.append(proc)
        parts[proc.pid] = (
            "sandbox" if "run_sandbox" in cmd else "worker" if "celery" in cmd[0] else "web"
        )
        return proc

    def stop(proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        procs.remove(proc)

    celery = [
        str(Path(PY).parent / "celery"),
        "-A",
        "config",
        "worker",
        "-c",
        str(args.concurrency),
        "-l",
        "WARNING",
    ]

    try:
        start(
            [
                PY,
                "manage.py",
                "run_sandbox",
                "--port",
                str(sandbox_port),
                "--no-callbacks",
                "--no-log",
            ]
        )
        start(
            [
                str(Path(PY).parent / "gunicorn"),
                "config.wsgi",
                "-w",
                str(args.web_workers),
                "-b",
                f"127.0.0.1:{web_port}",
                # gthread keeps a client's connection open between its requests (keep-alive).
                *(["-k", "gthread", "--threads", "2"] if args.server == "gunicorn-gthread" else []),
            ]
            if args.server.startswith("gunicorn")
            else [
                str(Path(PY).parent / "granian"),
                "--interface",
                "wsgi",
                "config.wsgi:application",
                "--workers",
                str(args.web_workers),
                "--host",
                "127.0.0.1",
                "--port",
                str(web_port),
            ]
        )
        worker = start(celery)
        cohortbench.wait_http(f"http://127.0.0.1:{sandbox_port}/_sandbox/requests")
        cohortbench.wait_http(f"http://127.0.0.1:{web_port}/healthz")

        # Queries per text, in process: the API request's service call and the worker's task.
        from messaging import enqueue
        from messaging import services as messaging_services

        sender = user.person
        per_request, per_task = [], []
        saved = enqueue.sms
        queued: list[int] = []
        enqueue.sms = queued.append  # type: ignore[assignment]
        for pid in students[:6]:
            with CaptureQueriesContext(connection) as ctx:
                messaging_services.message_send(sender=sender, recipient_id=pid, body="q")
            per_request.append(len(ctx.captured_queries))
        enqueue.sms = saved  # type: ignore[assignment]
        for pk in queued:
            with CaptureQueriesContext(connection) as ctx:
                sending.sms_send(message_id=pk, gateway=gateway.from_settings())
            per_task.append(len(ctx.captured_queries))

        # Queries of a cohort, in process: the service call of the request, then one batch task.
        batches: list[list[int]] = []
        saved_batches = enqueue.sms_batches
        enqueue.sms_batches = batches.append  # type: ignore[assignment]
        with CaptureQueriesContext(connection) as ctx:
            messaging_services.message_send_bulk(
                sender=sender, recipient_ids=students[:COHORT_PROBE], body="q"
            )
        enqueue.sms_batches = saved_batches  # type: ignore[assignment]
        request_queries = len(ctx.captured_queries)
        first_batch = batches[0][: enqueue.TASK_BATCH_SIZE]
        # One lane, so that every query is this thread's (helper lanes have their own
        # connections, which the capture would not see).
        in_flight, sending.IN_FLIGHT = sending.IN_FLIGHT, 1
        with CaptureQueriesContext(connection) as ctx:
            sending.sms_send_batch(message_ids=first_batch, gateway=gateway.from_settings())
        sending.IN_FLIGHT = in_flight
        cohort_queries = (request_queries, len(ctx.captured_queries), len(first_batch))

        # Reference: the sandbox's own rate for direct SDK calls.
        sdk_local = threading.local()

        def direct(i: int) -> None:
            # One SDK client per client thread, as gateway.client() keeps one per thread.
            local = getattr(sdk_local, "client", None)
            if local is None:
                local = sdk_local.client = (
                    cohortbench.sdk_client() if args.reference == "sdk" else gateway.client()
                )
            local.messages.create(to=f"+1202555{i % 200:04d}", from_="+12015550100", body="ref")

        def reference() -> float:
            return cohortbench.run_parallel(args.texts, args.clients, direct)

        before = cpu_now()
        reference_s = reference()
        cpu["reference"] = cpu_now() - before

        # Pipeline: API request -> ... -> accepted by the sandbox.
        Message.objects.all().delete()
        failed = 0
        send_one = cohortbench.api_poster(f"http://127.0.0.1:{web_port}", token, students)

        def post(i: int) -> None:
            send_one("/api/v1/messages/", i)

        def wait_all_sent() -> tuple[float, float]:
            deadline = time.time() + 600
            while Message.objects.filter(status=Status.SENT).count() < args.texts:
                if time.time() > deadline:
                    raise RuntimeError("texts did not all reach the sandbox in time")
                time.sleep(0.2)
            times = Message.objects.order_by("sent_at").values_list("sent_at", flat=True)
            return times.first().timestamp(), times.last().timestamp()  # type: ignore[union-attr]

        single: dict[str, float] = {}
        if not args.cohort_only:
            # 1. End to end, the worker running while the API takes the requests.
            started, before = time.time(), cpu_now()
            cohortbench.run_parallel(args.texts, args.clients, post)
            _, last = wait_all_sent()
            single["pipeline"] = last - started
            cpu["pipeline"] = cpu_now() - before
            failed += Message.objects.exclude(status=Status.SENT).count()

            # 2. The API alone (worker stopped), then the worker alone draining the queue.
            stop(worker)
            Message.objects.all().delete()
            before = cpu_now()
            single["api"] = cohortbench.run_parallel(args.texts, args.clients, post)
            cpu["api"] = cpu_now() - before
            worker = start(celery)
            first, last = wait_all_sent()
            single["drain"] = (last - first) * args.texts / max(args.texts - 1, 1)

        # 3. A cohort: one request naming `texts` students -> batches of texts -> the sandbox;
        # then the same with merge fields (each text its own body). Each round measures the
        # reference again just before its two cohorts: the ratio is of the same moment.
        cohort_session = requests.Session()
        cohort_session.headers["Authorization"] = f"Token {token}"

        def cohort(body: str) -> tuple[float, float]:
            nonlocal failed
            Message.objects.all().delete()
            started, before, idle = time.time(), cpu_now(), _idle_now()
            response = cohort_session.post(
                f"http://127.0.0.1:{web_port}/api/v1/messages/bulk/",
                json={"recipients": students[: args.texts], "body": body},
                timeout=600,
            )
            assert response.status_code == 201, response.text
            request_s = time.time() - started
            _, last = wait_all_sent()
            cohort_cpu.append(cpu_now() - before)
            idle_end = _idle_now()
            cohort_idle.append((idle_end[0] - idle[0]) / (idle_end[1] - idle[1]))
            failed += Message.objects.exclude(status=Status.SENT).count()
            return last - started, request_s

        cohort_rows: list[tuple[float, float, float, float, float]] = []
        cohort_cpu: list[Counter[str]] = []  # per cohort, plain and merged in turn
        cohort_idle: list[float] = []  # share of the cores left idle during each cohort
        ref_cpu: list[Counter[str]] = [cpu["reference"]]
        for round_ in range(args.rounds):
            if round_ > 0:
                before = cpu_now()
            ref_s = reference_s if round_ == 0 else reference()
            if round_ > 0:
                ref_cpu.append(cpu_now() - before)
            plain, plain_request = cohort(PLAIN_BODY)
            merged, merged_request = cohort(MERGED_BODY)
            cohort_rows.append((ref_s, plain, plain_request, merged, merged_request))
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        connection.close()
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-qc",
                f"DROP DATABASE IF EXISTS {args.db}",
            ],
            check=False,
        )

    ref_rate = args.texts / reference_s
    print(
        f"texts={args.texts} clients={args.clients} {args.server} workers={args.web_workers} "
        f"celery processes={args.concurrency} not sent={failed} "
        f"reference client={args.reference}"
    )
    print(f"queries per API send (first is the sender's number assignment): {per_request}")
    print(f"queries per send task: {per_task}")
    print(
        f"queries for a cohort of {COHORT_PROBE}: {cohort_queries[0]} in the request, "
        f"{cohort_queries[1]} per batch task of {cohort_queries[2]} texts"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        "| texts | reference: direct SDK -> sandbox | path | end to end | ratio "
        "| API alone | worker alone |"
    )
    if single:
        rate = args.texts / single["pipeline"]
        print(
            f"| {args.texts} | {ref_rate:.0f}/s | one text per request | {rate:.0f}/s "
            f"| {rate / ref_rate:.2f} | {args.texts / single['api']:.0f}/s "
            f"| {args.texts / single['drain']:.0f}/s |"
        )
    if single:
        # What each text costs in CPU, whatever else the machine runs: on free cores the rates'
        # ratio would approach the ratio of these totals.
        total = {name: sum(used.values()) * 1000 / args.texts for name, used in cpu.items()}
        for name in ("reference", "pipeline", "api"):
            shares = ", ".join(
                f"{part} {seconds * 1000 / args.texts:.2f}"
                for part, seconds in sorted(cpu[name].items())
            )
            print(f"CPU per text, {name}: {total[name]:.2f} ms ({shares})")
        print(f"CPU per text, reference / pipeline: {total['reference'] / total['pipeline']:.2f}")
    for ref_s, plain, plain_request, merged, merged_request in cohort_rows:
        ref = args.texts / ref_s
        for path, took, request_s in (
            ("one cohort request", plain, plain_request),
            ("one merged cohort request", merged, merged_request),
        ):
            rate = args.texts / took
            print(
                f"| {args.texts} | {ref:.0f}/s | {path} | {rate:.0f}/s "
                f"| {rate / ref:.2f} | request {request_s:.2f} s | |"
            )
    if cohort_cpu:
        # CPU per text of every process, summed over the rounds (the wait for the last `sent`
        # polls PostgreSQL from this process every 0.2 s: counted as the client's).
        for name, runs in (
            ("reference", ref_cpu),
            ("cohort", cohort_cpu[0::2]),
            ("merged cohort", cohort_cpu[1::2]),
        ):
            summed: Counter[str] = sum(runs, Counter())
            count = args.texts * len(runs)
            shares = ", ".join(
                f"{part} {seconds * 1000 / count:.2f}" for part, seconds in sorted(summed.items())
            )
            print(f"CPU per text, {name}: {sum(summed.values()) * 1000 / count:.2f} ms ({shares})")
        print("cores idle during each cohort: " + ", ".join(f"{i:.0%}" for i in cohort_idle))
    if len(cohort_rows) > 1:
        for index, path in ((1, "cohort"), (3, "merged cohort")):
            ratios = sorted(args.texts / row[index] / (args.texts / row[0]) for row in cohort_rows)
            print(
                f"{path}: best ratio {ratios[-1]:.2f}, median {statistics.median(ratios):.2f} "
                f"over {len(ratios)} rounds"
            )
    print(f"pacing per sender number: {pacing_off}")


PLAIN_BODY = "Registration opens Monday"
MERGED_BODY = "Hi {first_name}, registration opens Monday: book a time with {staff_first_name}."


def _pacing_off() -> str:
    """Pacing per sender number, where the configuration has it, is switched off: the benchmark
    measures the pipeline's own speed, not a chosen sending rate."""
    from sms_admin.models import SmsConfiguration

    fields = {f.name for f in SmsConfiguration._meta.get_fields()}
    if "sender_segments_per_second" not in fields:
        return "not in this version"
    SmsConfiguration.objects.filter(pk=1).update(sender_segments_per_second=0)
    return "off (sender_segments_per_second = 0)"


if __name__ == "__main__":
    main()
