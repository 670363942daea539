"""A Redis that accepts connections but never answers (a hung server, a half-open network
path): every Redis call gives up after REDIS_SOCKET_TIMEOUT_SECONDS instead of hanging. A send
still answers 201 and waits in `queued` for the sweep; the API's request count lets the request
through rather than failing it."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache.backends.redis import RedisCache
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from config.throttling import ApiRateThrottle
from messaging import sending
from messaging.models import Message, Status
from tests.conftest import client_for
from tests.sending_support import pool_numbers, student_with_phone
from twilio_bridge import gateway
from twilio_bridge.sandbox import Sandbox

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("config", "policy")]

TIMEOUT = 0.5
# How long a call may take before the test calls it hung: far above the timeout, so a busy
# machine cannot fail the test, and far below "forever".
HUNG_AFTER = 60.0


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A TCP port that accepts every connection and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


@contextlib.contextmanager
def broker_silent(settings: Any) -> Iterator[None]:
    """Celery as in production (not eager), its broker the silent server."""
    from config.celery import app

    with silent_server() as url:
        saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options)
        pools = (app._pool, app.amqp._producer_pool)
        app._pool = app.amqp._producer_pool = None
        settings.CELERY_BROKER_URL = url
        settings.REDIS_SOCKET_TIMEOUT_SECONDS = TIMEOUT
        app.conf.broker_url = url
        app.conf.task_always_eager = False
        app.conf.broker_transport_options = {
            **saved[2],
            "socket_timeout": TIMEOUT,
            "socket_connect_timeout": TIMEOUT,
        }
        try:
            yield
        finally:
            for made in (app._pool, app.amqp._producer_pool):
                if made is not None:
                    made.force_close_all()
            app._pool, app.amqp._producer_pool = pools
            app.conf.broker_url, app.conf.task_always_eager = saved[0], saved[1]
            app.conf.broker_transport_options = saved[2]


def bounded(call: Any) -> Any:
    """`call()` in a thread; fails the test if it has not returned after HUNG_AFTER seconds."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except BaseException as error:  # handed back to the test
            result["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HUNG_AFTER)
    assert not thread.is_alive(), f"still waiting for Redis after {HUNG_AFTER} s"
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_a_send_while_redis_never_answers_answers_201_and_the_sweep_sends_it_once(
    advisor: Any, sandbox: Sandbox, settings: Any
) -> None:
    pool_numbers(1)
    student, phone = student_with_phone()
    api = client_for(advisor.user)
    api.raise_request_exception = False

    with broker_silent(settings):
        response = bounded(
            lambda: api.post(
                "/api/v1/messages/", {"recipient": student.pk, "body": "Hi"}, format="json"
            )
        )

    assert response.status_code == 201, response.content
    text = Message.objects.get(pk=response.json()["id"])
    assert text.status == Status.QUEUED
    assert sandbox.creates() == []
    Message.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    sending.messages_sweep(gateway=gateway.from_settings())
    sending.messages_sweep(gateway=gateway.from_settings())
    text.refresh_from_db()
    assert text.status == Status.SENT
    assert [c["form"]["To"] for c in sandbox.creates()] == [phone.number]


def test_the_request_count_lets_a_request_through_when_redis_never_answers(
    advisor: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with silent_server() as url:
        throttle = ApiRateThrottle()
        throttle.cache = RedisCache(
            url, {"OPTIONS": {"socket_timeout": TIMEOUT, "socket_connect_timeout": TIMEOUT}}
        )
        request = APIRequestFactory().post("/api/v1/messages/")
        request.user = advisor.user
        with caplog.at_level(logging.WARNING, logger="config.throttling"):
            allowed = bounded(lambda: throttle.allow_request(request, view=None))

    assert allowed is True
    assert any("not counted" in r.getMessage() for r in caplog.records)


def test_every_redis_client_of_the_product_has_the_socket_timeout() -> None:
    from config.celery import app

    seconds = django_settings.REDIS_SOCKET_TIMEOUT_SECONDS
    options = app.conf.broker_transport_options
    assert (options["socket_timeout"], options["socket_connect_timeout"]) == (seconds, seconds)
    cache = django_settings.CACHES["default"]
    if cache["BACKEND"].endswith("RedisCache"):
        assert cache["OPTIONS"]["socket_timeout"] == seconds
