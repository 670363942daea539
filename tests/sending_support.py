"""Fixtures and helpers shared by the sending tests: a live Twilio sandbox, a sender pool,
students with phones, and the T3 policy rows (re-seeded: transactional tests flush them)."""

from __future__ import annotations

import importlib
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
