"""The database itself keeps the configuration, the number pool and the usage counters sound."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from people.models import Person, PersonPhone
from sms_admin import services
from sms_admin.models import (
    ErrorCodePolicy,
    MonthlyUsage,
    SenderAssignment,
    SenderNumber,
    SmsConfiguration,
)
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_configuration_row_is_created_with_the_spec_defaults() -> None:
    config = services.configuration_get()
    config.refresh_from_db()
    assert config.pk == 1
    assert config.student_sms_default == "opted_in"
    assert config.staff_sms_default == "opted_in"
    assert config.sms_max_length == 1000
    assert config.opt_out_scope == "all_phones"


def test_asking_for_the_configuration_twice_gives_the_same_single_row() -> None:
    assert services.configuration_get().pk == services.configuration_get().pk == 1
    assert SmsConfiguration.objects.count() == 1


def test_a_second_configuration_row_is_refused_by_the_database() -> None:
    services.configuration_get()
    with pytest.raises(IntegrityError), transaction.atomic():
        SmsConfiguration.objects.create(pk=2)
    assert SmsConfiguration.objects.count() == 1


@pytest.mark.parametrize("length", [0, 1601])
def test_an_sms_max_length_outside_1_to_1600_is_refused_by_the_database(length: int) -> None:
    services.configuration_get()
    with pytest.raises(IntegrityError), transaction.atomic():
        SmsConfiguration.objects.filter(pk=1).update(sms_max_length=length)
    assert SmsConfiguration.objects.get().sms_max_length == 1000


@pytest.mark.parametrize("length", [1, 1600])
def test_the_bounds_of_the_sms_max_length_range_are_accepted(length: int) -> None:
    services.configuration_get()
    SmsConfiguration.objects.filter(pk=1).update(sms_max_length=length)
    assert SmsConfiguration.objects.get().sms_max_length == length


@pytest.mark.parametrize("field", ["student_sms_default", "staff_sms_default"])
def test_a_default_status_other_than_opted_in_or_out_is_refused_by_the_database(
    field: str,
) -> None:
    services.configuration_get()
    with pytest.raises(IntegrityError), transaction.atomic():
        SmsConfiguration.objects.filter(pk=1).update(**{field: "enabled"})
    assert getattr(SmsConfiguration.objects.get(), field) == "opted_in"


def test_a_sender_number_cannot_be_provisioned_twice() -> None:
    SenderNumber.objects.create(number="+12015550100")
    with pytest.raises(IntegrityError), transaction.atomic():
        SenderNumber.objects.create(number="+12015550100")
    assert SenderNumber.objects.count() == 1


def _system_phone(person: Person, number: str) -> PersonPhone:
    return factories.PhoneFactory(person=person, number=number)


def _assign(number: SenderNumber, person: Person, **fields: Any) -> SenderAssignment:
    return SenderAssignment.objects.create(
        sender_number=number,
        person=person,
        phone=_system_phone(person, number.number),
        **fields,
    )


def test_a_number_cannot_have_two_active_holders() -> None:
    number = factories.SenderNumberFactory(number="+12015550100")
    _assign(number, factories.staff())
    with pytest.raises(IntegrityError), transaction.atomic():
        _assign(number, factories.staff())
    assert SenderAssignment.objects.filter(released_at__isnull=True).count() == 1


def test_a_person_cannot_hold_two_active_numbers() -> None:
    person = factories.staff()
    _assign(factories.SenderNumberFactory(number="+12015550100"), person)
    with pytest.raises(IntegrityError), transaction.atomic():
        _assign(factories.SenderNumberFactory(number="+12015550101"), person)
    assert SenderAssignment.objects.filter(person=person).count() == 1


def test_released_assignments_of_a_number_may_repeat_next_to_one_active_holder() -> None:
    number = factories.SenderNumberFactory(number="+12015550100")
    now = timezone.now()
    _assign(number, factories.staff(), released_at=now)
    _assign(number, factories.staff(), released_at=now)
    _assign(number, factories.staff())
    assert SenderAssignment.objects.filter(sender_number=number).count() == 3


def test_a_person_may_hold_a_new_number_after_releasing_earlier_ones() -> None:
    person = factories.staff()
    now = timezone.now()
    _assign(factories.SenderNumberFactory(number="+12015550100"), person, released_at=now)
    _assign(factories.SenderNumberFactory(number="+12015550101"), person, released_at=now)
    _assign(factories.SenderNumberFactory(number="+12015550102"), person)
    assert SenderAssignment.objects.filter(person=person, released_at__isnull=True).count() == 1


def test_one_phone_record_backs_at_most_one_assignment() -> None:
    person = factories.staff()
    first = _assign(
        factories.SenderNumberFactory(number="+12015550100"), person, released_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SenderAssignment.objects.create(
            sender_number=factories.SenderNumberFactory(number="+12015550101"),
            person=person,
            phone=first.phone,
        )


def test_there_is_one_usage_row_per_month() -> None:
    MonthlyUsage.objects.create(year=2026, month=9, sent=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyUsage.objects.create(year=2026, month=9)
    MonthlyUsage.objects.create(year=2027, month=9)
    assert MonthlyUsage.objects.count() == 2


@pytest.mark.parametrize("month", [0, 13])
def test_a_month_outside_1_to_12_is_refused_by_the_database(month: int) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyUsage.objects.create(year=2026, month=month)
    assert not MonthlyUsage.objects.exists()


def test_the_error_code_policy_ships_with_the_spec_defaults_one_row_per_code() -> None:
    policies = {p.code: p.action for p in ErrorCodePolicy.objects.all()}
    assert policies[21610] == "disable_all_phones"
    assert policies[30003] == "retry_then_email"
    assert policies[30007] == "sender_side"
    with pytest.raises(IntegrityError), transaction.atomic():
        ErrorCodePolicy.objects.create(code=21610, meaning="x", action="retry", failure_reason="x")
