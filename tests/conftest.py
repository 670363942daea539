"""Shared fixtures: users with their roles, API clients, the configuration."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from people.models import Person, PhoneType
from sms_admin import services as sms_admin_services
from sms_admin.models import SmsConfiguration
from tests import factories

# Sending fixtures (sandbox, policy, pool helpers) for every test package.
pytest_plugins = ["tests.sending_support"]


@pytest.fixture
def cell(db: Any) -> PhoneType:
    return factories.PhoneTypeFactory(code="cell", name="Cell")


@pytest.fixture
def config(db: Any, cell: PhoneType) -> SmsConfiguration:
    """Cell is the default SMS type; advisors may send; both kinds opted in (the defaults).
    No quiet hours, so a text goes at once whenever the suite runs (tests of quiet hours set
    them and fix the clock). No pacing, so a cohort is sent at once (tests of pacing set a rate
    and fix the clock)."""
    advisor = factories.RoleFactory(code="advisor")
    return sms_admin_services.configuration_update(
        actor=None,
        default_sms_phone_type=cell,
        permitted_roles=[advisor],
        quiet_hours_start=None,
        quiet_hours_end=None,
        sender_segments_per_second=0,
    )


@pytest.fixture
def admin_user(db: Any) -> Any:
    return factories.UserFactory(username="admin", is_staff=True, is_superuser=False)


@pytest.fixture
def superuser(db: Any) -> Any:
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def advisor(db: Any) -> Person:
    """A staff member with the advisor role and a login."""
    return factories.staff(user=factories.UserFactory(username="advisor"))


@pytest.fixture
def student_person(db: Any) -> Person:
    return factories.student(user=factories.UserFactory(username="student"))


def client_for(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def admin_api(admin_user: Any) -> APIClient:
    return client_for(admin_user)


@pytest.fixture
def superuser_api(superuser: Any) -> APIClient:
    return client_for(superuser)


@pytest.fixture
def advisor_api(advisor: Person) -> APIClient:
    return client_for(advisor.user)


@pytest.fixture
def student_api(student_person: Person) -> APIClient:
    return client_for(student_person.user)


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def celery_in_process(settings: Any) -> Any:
    """Tasks run in-process in tests even when REDIS_URL names a broker; the tests that prove
    worker behaviour start real workers themselves."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def helper_lanes_ended() -> Any:
    """The batch sender's helper lanes keep their database connections from batch to batch
    (messaging.sending); each test ends them, so no test sees another's and the test database
    can be dropped at the end."""
    yield
    from messaging import sending

    sending.lanes_stop()


def _reseed_migration_data() -> None:
    """Put back the rows data migrations create (the System phone type, the T3 policy table)."""
    import importlib

    from django.apps import apps

    for module in (
        "people.migrations.0002_system_phone_type",
        "sms_admin.migrations.0002_error_code_policy_defaults",
    ):
        importlib.import_module(module).seed(apps, None)


@pytest.fixture(autouse=True)
def migration_data_in_transactional_tests(request: pytest.FixtureRequest) -> None:
    """Transactional tests (live server, real concurrency) flush the database after each test,
    which also removes the rows data migrations made; put them back before such a test runs."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        _reseed_migration_data()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Users are made in most tests; the production hasher costs about half a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def webhook_receipts_unthrottled() -> None:
    """Each test starts as a fresh web process: the webhook-receipt write throttle (one write
    per kind per 10 s per process) must not carry a previous test's write over."""
    from sms_admin import services as sms_admin_services

    sms_admin_services._receipts_written.clear()


@pytest.fixture(autouse=True)
def api_throttle_history_per_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no API request history: user ids repeat across tests (SQLite
    reuses them) and the default cache outlives a test, so counts would add up across the
    suite. The throttle tests prove the shared cache separately."""
    import uuid

    from django.core.cache.backends.locmem import LocMemCache

    from config.throttling import ApiRateThrottle

    monkeypatch.setattr(ApiRateThrottle, "cache", LocMemCache(uuid.uuid4().hex, {}))


@pytest.fixture(autouse=True)
def usage_alerts_forgotten() -> None:
    """Each test starts as a fresh process: the usage alerts a previous test recorded are not
    remembered as sent (A2)."""
    from sms_admin import alerts

    alerts._known.clear()
