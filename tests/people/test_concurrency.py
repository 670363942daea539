"""Racing status changes on PostgreSQL, with real threads and their own connections: a change is
recorded only by the writer that really made it (T10), and configuration history stays a chain
(C10)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from people import services
from people.models import PersonPhone, PhoneStatusChange, SmsStatus, StatusCause
from sms_admin import services as sms_admin_services
from sms_admin.models import ConfigurationChange
from tests import factories
from tests.parallel import run_each_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 12


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL: run with DATABASE_URL=postgres://...")


def race(work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..THREADS-1) in threads released together; each thread has its own connection."""
    return run_each_at_once(work, THREADS)


def test_racing_opt_outs_of_one_phone_record_exactly_one_change() -> None:
    phone = factories.PhoneFactory(person=factories.student())

    def opt_out(i: int) -> bool:
        stale = PersonPhone.objects.get(pk=phone.pk)
        return services.phone_status_set(
            phone=stale, status=SmsStatus.DISABLED, cause=StatusCause.OPT_OUT
        )

    assert sum(race(opt_out)) == 1
    assert PhoneStatusChange.objects.filter(phone=phone).count() == 1
    phone.refresh_from_db()
    assert phone.sms_status == "disabled"


def test_racing_different_statuses_leave_a_history_that_ends_in_the_stored_status() -> None:
    phone = factories.PhoneFactory(person=factories.student())
    statuses = [SmsStatus.ENABLED, SmsStatus.DISABLED]

    def flip(i: int) -> bool:
        stale = PersonPhone.objects.get(pk=phone.pk)
        return services.phone_status_set(
            phone=stale, status=statuses[i % 2], cause=StatusCause.MANUAL
        )

    changed = sum(race(flip))
    history = list(PhoneStatusChange.objects.filter(phone=phone).order_by("changed_at", "id"))
    assert len(history) == changed >= 1
    phone.refresh_from_db()
    assert history[-1].new_status == phone.sms_status
    for before, after in itertools.pairwise(history):
        assert after.old_status == before.new_status


def test_racing_configuration_changes_record_a_chain_of_old_and_new_values() -> None:
    sms_admin_services.configuration_get()

    def set_length(i: int) -> None:
        sms_admin_services.configuration_update(actor=None, sms_max_length=100 + i)

    race(set_length)
    history = list(
        ConfigurationChange.objects.filter(field="sms_max_length").order_by("changed_at", "id")
    )
    assert len(history) == THREADS
    assert history[0].old_value == "1000"
    for before, after in itertools.pairwise(history):
        assert after.old_value == before.new_value
    stored = sms_admin_services.configuration_get().sms_max_length
    assert history[-1].new_value == str(stored)
