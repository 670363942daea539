"""Fixtures and helpers shared by the sending tests: a live Twilio sandbox, a sender pool,
students with phones, and the T3 policy rows (re-seeded: transactional tests flush them)."""

from __future__ import annotations

import contextlib
import importlib
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from people.models import Person, PersonPhone, PhoneType, SmsStatus
from sms_admin.models import ErrorCodePolicy, SenderNumber
from tests import factories
from twilio_bridge.sandbox import Sandbox

_policy_migration = importlib.import_module("sms_admin.migrations.0002_error_code_policy_defaults")


def policy_defaults_ensure() -> None:
    for code, meaning, action, reason in _policy_migration.DEFAULTS:
        ErrorCodePolicy.objects.get_or_create(
            code=code, defaults={"meaning": meaning, "action": action, "failure_reason": reason}
        )


@pytest.fixture
def policy(db: Any) -> None:
    policy_defaults_ensure()


@pytest.fixture
def sandbox(settings: Any) -> Iterator[Sandbox]:
    """A running sandbox the gateway talks to; no status callbacks (no web server to take them)."""
    box = Sandbox(callbacks=False).start()
    settings.TWILIO_API_BASE_URL = box.url
    settings.TWILIO_READ_TIMEOUT = 2.0
    yield box
    box.stop()


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the texts and emails handed to the worker, in order; nothing is sent (tests
    that need more, e.g. a lock for threads or the channel, define their own `published`)."""
    from messaging import enqueue

    seen: list[int] = []
    monkeypatch.setattr(enqueue, "sms", lambda pk, **_: seen.append(pk))
    monkeypatch.setattr(enqueue, "sms_batches", lambda ids, **_: seen.extend(ids))
    monkeypatch.setattr(enqueue, "email", lambda pk, **_: seen.append(pk))
    monkeypatch.setattr(enqueue, "email_batches", lambda ids, **_: seen.extend(ids))
    return seen


def pool_numbers(count: int, start: int = 100) -> list[SenderNumber]:
    return [SenderNumber.objects.create(number=f"+1201555{start + i:04d}") for i in range(count)]


def student_with_phone(
    number: str = "+12025550100",
    *,
    phone_type: PhoneType | None = None,
    sms_status: str = SmsStatus.ENABLED,
    email: str | None = None,
    **kwargs: Any,
) -> tuple[Person, PersonPhone]:
    extra = {"email": email} if email is not None else {}
    person = factories.student(**extra, **kwargs)
    phone = factories.PhoneFactory(
        person=person,
        number=number,
        phone_type=phone_type or factories.PhoneTypeFactory(code="cell"),
        sms_status=sms_status,
    )
    return person, phone


@contextlib.contextmanager
def broker_down() -> Iterator[None]:
    """Celery as in production (not eager), its broker a Redis port nobody listens on: every
    publish fails as it does while Redis is down (kombu's OperationalError, after Celery's own
    connection retries). Afterwards tasks run in-process again, as if the broker were back."""
    from config.celery import app
    from messaging import enqueue

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    # The producer pools are made on first use from broker_url and kept: start without them.
    pools = (app._pool, app.amqp._producer_pool)
    app._pool = app.amqp._producer_pool = None
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        for made in (app._pool, app.amqp._producer_pool):
            if made is not None:
                made.force_close_all()
        app._pool, app.amqp._producer_pool = pools
        app.conf.broker_url, app.conf.task_always_eager = saved
        enqueue._paused_until = 0.0


def students_with_phones(count: int, *, start: int = 0) -> list[int]:
    """`count` students, each with one enabled cell phone, in three bulk inserts (for the query
    count tests of cohorts of hundreds or thousands); returns their ids in order."""
    from people.models import RoleKind

    role = factories.RoleFactory(code="student", kind=RoleKind.STUDENT)
    cell = factories.PhoneTypeFactory(code="cell")
    people = Person.objects.bulk_create(
        Person(
            first_name=f"First{start + i}",
            last_name=f"Last{start + i}",
            email=f"bulk{start + i}@example.edu",
            src_system_id=f"BULK-{start + i}",
        )
        for i in range(count)
    )
    Person.roles.through.objects.bulk_create(
        Person.roles.through(person_id=p.pk, role_id=role.pk) for p in people
    )
    PersonPhone.objects.bulk_create(
        PersonPhone(
            person_id=p.pk,
            number=f"+1303{start + i:07d}",
            phone_type=cell,
            sms_status=SmsStatus.ENABLED,
        )
        for i, p in enumerate(people)
    )
    return [p.pk for p in people]
