"""How long one `POST /api/v1/messages/` takes in process (Django's test client, no HTTP server,
one request at a time), on PostgreSQL with Redis as the broker (the task is published; no worker
takes it; the Redis database is emptied after). The cost of one text per request, which caps
that path of bench/send/run.py.

    .venv/bin/python bench/send/api_request.py --requests 500 --db lead_api_bench --redis-db 14

`--profile` prints where the time goes (needs `pip install pyinstrument`, not a dependency).
Creates and drops its own database.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cohortbench

ROOT = Path(__file__).resolve().parents[2]


def psql(statement: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", statement], check=True)


def _bare_view_install() -> None:
    """The reference view: token authentication, JSON parsing, a 201 answer, nothing else."""
    from django.urls import clear_url_caches, path
    from rest_framework.request import Request
    from rest_framework.response import Response
    from rest_framework.views import APIView

    import config.urls

    class Bare(APIView):
        def post(self, request: Request) -> Response:
            return Response({"recipient": request.data["recipient"]}, status=201)

    config.urls.urlpatterns.insert(0, path("bench/bare/", Bare.as_view()))
    clear_url_caches()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--db", default="h_api_bench")
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--queries", action="store_true", help="print one request's statements")
    args = parser.parse_args()
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{args.db}",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DJANGO_ALLOWED_HOSTS="testserver",
        # One token makes every request: the limit is checked (its cost counts), never reached.
        API_THROTTLE_RATE="1000000/min",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
        CELERY_DB_REUSE_MAX="1000",
    )
    psql(f"DROP DATABASE IF EXISTS {args.db}")
    psql(f"CREATE DATABASE {args.db}")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    try:
        call_command("migrate", verbosity=0)
        # The configuration of the sandbox benchmarks: no monthly limit, pacing or quiet hours
        # (at night they would hold every text and measure another path).
        user, students = cohortbench.sandbox_world(200)
        token = Token.objects.create(user=user).key
        client = Client(HTTP_AUTHORIZATION=f"Token {token}")
        _bare_view_install()

        def bare(count: int) -> None:
            for i in range(count):
                response = client.post(
                    "/bench/bare/",
                    data=json.dumps({"recipient": students[i % len(students)], "body": f"t{i}"}),
                    content_type="application/json",
                )
                assert response.status_code == 201, response.content

        def send(count: int) -> None:
            for i in range(count):
                response = client.post(
                    "/api/v1/messages/",
                    data=json.dumps({"recipient": students[i % len(students)], "body": f"t{i}"}),
                    content_type="application/json",
                )
                assert response.status_code == 201, response.content

        send(20)  # the sender's number is assigned; connections are open
        bare(20)
        if args.queries:
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                send(1)
            for query in captured.captured_queries:
                print(query["time"], query["sql"][:300])
        elif args.cprofile:
            import cProfile
            import pstats

            cpu = cProfile.Profile(
                time.perf_counter if os.environ.get("BENCH_WALL") else time.process_time
            )
            cpu.enable()
            send(args.requests)
            cpu.disable()
            pstats.Stats(cpu).sort_stats("cumulative").print_stats(45)
            cpu.dump_stats("/tmp/speed_send.prof")
        elif args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            send(args.requests)
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False))
        else:
            # The reference, in the same run: an authenticated POST to a DRF view doing nothing.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (backend,) = cursor.fetchone()

            def backend_cpu() -> float:
                """CPU seconds of the PostgreSQL backend serving this process."""
                with open(f"/proc/{backend}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

            took: dict[str, list[float]] = {"send": [], "bare": []}
            cpu: dict[str, list[float]] = {"send": [], "bare": []}
            server_cpu: dict[str, float] = {"send": 0.0, "bare": 0.0}
            rounds = 5
            for _ in range(rounds):  # interleaved rounds, so both see the same machine
                for name, run in (("send", send), ("bare", bare)):
                    started, started_cpu = time.perf_counter(), time.process_time()
                    started_server = backend_cpu()
                    run(args.requests // rounds)
                    server_cpu[name] += backend_cpu() - started_server
                    took[name].append((time.perf_counter() - started) / (args.requests // rounds))
                    cpu[name].append(
                        (time.process_time() - started_cpu) / (args.requests // rounds)
                    )
            send_ms = sorted(took["send"])[rounds // 2] * 1000
            bare_ms = sorted(took["bare"])[rounds // 2] * 1000
            send_cpu = sorted(cpu["send"])[rounds // 2] * 1000
            bare_cpu = sorted(cpu["bare"])[rounds // 2] * 1000
            print(
                f"POST messages/: {send_ms:.2f} ms each (median of {rounds} rounds of "
                f"{args.requests // rounds}); bare authenticated DRF POST: {bare_ms:.2f} ms; "
                f"ratio {send_ms / bare_ms:.2f}"
            )
            # This process's CPU only (Django and the test client; not PostgreSQL's or Redis's):
            # steadier than the wall clock when other work shares the machine.
            print(
                f"CPU of this process per request: send {send_cpu:.2f} ms, bare "
                f"{bare_cpu:.2f} ms; PostgreSQL's backend per request: send "
                f"{server_cpu['send'] * 1000 / args.requests:.2f} ms, bare "
                f"{server_cpu['bare'] * 1000 / args.requests:.2f} ms; "
                f"load average {os.getloadavg()[0]:.1f}"
            )
    finally:
        connection.close()
        psql(f"DROP DATABASE IF EXISTS {args.db}")
        subprocess.run(["redis-cli", "-n", str(args.redis_db), "flushdb"], capture_output=True)


if __name__ == "__main__":
    main()
