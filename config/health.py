"""`/healthz`: database and broker reachability as JSON; 503 when the database is down or does
not answer within DATABASE_TIMEOUT seconds (a hung PostgreSQL must not hang the probe)."""

from __future__ import annotations

import math
import select
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

# The whole database check (connect, SELECT 1) ends within this many seconds.
DATABASE_TIMEOUT = 2.0


def _database_ok() -> bool:
    try:
        if connection.vendor == "postgresql":
            return _postgresql_answers(DATABASE_TIMEOUT)
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return bool(cursor.fetchone() == (1,))
    except Exception:
        return False


def _postgresql_answers(timeout: float) -> bool:
    """Whether PostgreSQL answers SELECT 1 on a new connection within `timeout` seconds.

    A new connection, not the request's own: a persistent connection to a server that stopped
    answering would block. It is asynchronous, so the deadline holds whatever the server does
    (accepts and stays silent, stalls mid-answer); libpq's connect_timeout is whole seconds.
    """
    import psycopg2

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params["connect_timeout"] = max(2, math.ceil(timeout))
    deadline = time.monotonic() + timeout
    conn = psycopg2.connect(**params, async_=True)
    try:
        _wait(conn, deadline)
        cursor = conn.cursor()
        cursor.execute("SELECT 1")
        _wait(conn, deadline)
        return bool(cursor.fetchone() == (1,))
    finally:
        conn.close()


def _wait(conn: Any, deadline: float) -> None:
    """Drive an asynchronous psycopg2 connection until its operation completes or `deadline`."""
    import psycopg2.extensions

    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the database did not answer in time")
        if state == psycopg2.extensions.POLL_READ:
            select.select([conn.fileno()], [], [], remaining)
        else:
            select.select([], [conn.fileno()], [], remaining)


def _broker_state() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process"
    try:
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1).ping()
    except Exception:
        return "unreachable"
    return "ok"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = "ok" if _database_ok() else "unreachable"
    broker = _broker_state()
    healthy = database == "ok" and broker != "unreachable"
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "database": database, "broker": broker},
        status=200 if database == "ok" else 503,
    )
