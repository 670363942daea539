"""Where the API's CPU per request goes through gunicorn (4 sync workers, as the Dockerfile
runs it), layer by layer, measured in the same run: a WSGI answer that never reaches Django
(the server and HTTP alone), an authenticated DRF POST doing nothing (Django, DRF, the token
and the rate limit), and `POST /api/v1/messages/` (the send; no worker runs, the texts wait in
Redis, emptied after). The bench's clients are 8 threads with a requests session each, as in
run.py.

    .venv/bin/python bench/send/web_layers.py --requests 2000 --db lead_web --redis-db 11

Prints, per layer, the requests a second and the CPU per request of gunicorn's processes, of
PostgreSQL's backends for the database and of this process (the clients). Creates and drops
its own database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cohortbench

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable

# The WSGI application gunicorn serves: the product's, plus the two reference layers.
APP = """
from config.wsgi import application as django_application

from django.urls import clear_url_caches, path
from rest_framework.response import Response
from rest_framework.views import APIView

import config.urls


class Bare(APIView):
    def post(self, request):
        return Response({"recipient": request.data["recipient"]}, status=201)


config.urls.urlpatterns.insert(0, path("bench/bare/", Bare.as_view()))
clear_url_caches()


def application(environ, start_response):
    if environ["PATH_INFO"] == "/bench/raw/":
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("201 Created", [("Content-Type", "application/json"),
                                       ("Content-Length", "2")])
        return [b"{}"]
    return django_application(environ, start_response)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default="h_web_layers")
    parser.add_argument("--redis-db", type=int, default=11)
    args = parser.parse_args()
    port = cohortbench.free_port()
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.db}",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "API_THROTTLE_RATE": "1000000/min",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": f"{Path(__file__).parent}{os.pathsep}{ROOT}",
    }
    for statement in (f"DROP DATABASE IF EXISTS {args.db}", f"CREATE DATABASE {args.db}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", statement], check=True)
    subprocess.run(["redis-cli", "-n", str(args.redis_db), "flushdb"], check=True)
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from rest_framework.authtoken.models import Token

    user, students = cohortbench.sandbox_world(200)
    token = Token.objects.create(user=user).key
    app_dir = Path(f"/tmp/web_layers_{os.getpid()}")
    app_dir.mkdir(exist_ok=True)
    (app_dir / "web_layers_app.py").write_text(APP)
    gunicorn = subprocess.Popen(
        [
            str(Path(PY).parent / "gunicorn"),
            "web_layers_app:application",
            "-w",
            "4",
            "-b",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env={**env, "PYTHONPATH": f"{app_dir}{os.pathsep}{env['PYTHONPATH']}"},
        stdout=subprocess.DEVNULL,
        stderr=open(app_dir / "gunicorn.log", "w"),  # noqa: SIM115 (closed with the process)
        start_new_session=True,
    )
    try:
        cohortbench.wait_http(f"http://127.0.0.1:{port}/healthz")
        post = cohortbench.api_poster(f"http://127.0.0.1:{port}", token, students)

        def backends() -> set[int]:
            """PostgreSQL's backends serving the benchmark's database (this process's aside)."""
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                    "pg_backend_pid()",
                    [args.db],
                )
                return {row[0] for row in cursor.fetchall()}

        def cpu_so_far(serving: set[int]) -> dict[str, float]:
            """CPU seconds so far of gunicorn's processes, of the `serving` backends and of
            this process (the clients)."""
            used = cohortbench.cpu_of_processes(
                lambda pid, pgid: (
                    "web" if pgid == gunicorn.pid else "postgres" if pid in serving else None
                )
            )
            return {"web": 0.0, "postgres": 0.0, **used, "client": time.process_time()}

        def measure(path: str) -> tuple[float, dict[str, float]]:
            serving = backends()
            before = cpu_so_far(serving)
            took = cohortbench.run_parallel(args.requests, args.clients, lambda i: post(path, i))
            after = cpu_so_far(serving | backends())
            return args.requests / took, {
                part: (after[part] - before.get(part, 0.0)) * 1000 / args.requests
                for part in ("web", "postgres", "client")
            }

        layers = [
            ("WSGI only (no Django)", "/bench/raw/"),
            ("bare authenticated DRF POST", "/bench/bare/"),
            ("POST /api/v1/messages/", "/api/v1/messages/"),
        ]
        for _, path in layers:
            for i in range(40):  # every worker process connected and warm
                post(path, i)
        print("| round | layer | requests/s | CPU per request: web | PostgreSQL | client |")
        print("|---|---|---|---|---|---|")
        for round_ in range(1, args.rounds + 1):
            for name, path in layers:
                rate, cpu = measure(path)
                print(
                    f"| {round_} | {name} | {rate:.0f}/s | {cpu['web']:.2f} ms | "
                    f"{cpu['postgres']:.2f} ms | {cpu['client']:.2f} ms |",
                    flush=True,
                )
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)
        connection.close()
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE {args.db}"],
            check=False,
        )
        subprocess.run(["redis-cli", "-n", str(args.redis_db), "flushdb"], check=False)
        shutil.rmtree(app_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
