"""The database itself refuses bad people and phone rows, whatever code writes them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from people.models import Person, PersonPhone, PhoneType, Role, RoleKind, SmsStatus
from tests import factories

pytestmark = pytest.mark.django_db


def _phone(**overrides: Any) -> PersonPhone:
    fields: dict[str, Any] = {
        "person": factories.PersonFactory(),
        "number": "+12025550143",
        "phone_type": factories.PhoneTypeFactory(),
    }
    fields.update(overrides)
    return PersonPhone.objects.create(**fields)


@pytest.mark.parametrize(
    "number",
    [
        "2025550143",
        "+02025550143",
        "+1 202 555 0143",
        "+1-202-555-0143",
        "+12345",
        "",
        "+1" + "2" * 15,
    ],
)
def test_a_phone_number_that_is_not_e164_is_refused_by_the_database(number: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _phone(number=number)


@pytest.mark.parametrize("number", ["+12025550143", "+442079460958", "+1234567"])
def test_a_phone_number_in_e164_is_stored(number: str) -> None:
    assert _phone(number=number).number == number


def test_an_sms_status_outside_the_three_values_is_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _phone(sms_status="opted_in")


def test_updating_a_phone_to_an_unknown_sms_status_is_refused_by_the_database() -> None:
    phone = _phone()
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonPhone.objects.filter(pk=phone.pk).update(sms_status="bogus")
    phone.refresh_from_db()
    assert phone.sms_status == SmsStatus.DEFAULT


def test_a_new_phone_is_sms_default_and_not_deleted() -> None:
    phone = _phone()
    phone.refresh_from_db()
    assert (phone.sms_status, phone.deleted, phone.verified_at) == ("default", False, None)


def test_two_roles_cannot_share_a_code() -> None:
    Role.objects.create(code="advisor", name="Advisor", kind=RoleKind.STAFF)
    with pytest.raises(IntegrityError), transaction.atomic():
        Role.objects.create(code="advisor", name="Another advisor", kind=RoleKind.STAFF)
    assert Role.objects.filter(code="advisor").count() == 1


def test_two_phone_types_cannot_share_a_code() -> None:
    PhoneType.objects.create(code="cell", name="Cell")
    with pytest.raises(IntegrityError), transaction.atomic():
        PhoneType.objects.create(code="cell", name="Mobile")
    assert PhoneType.objects.filter(code="cell").count() == 1


def test_two_people_cannot_share_a_source_system_id() -> None:
    Person.objects.create(first_name="A", last_name="One", src_system_id="SIS-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(first_name="B", last_name="Two", src_system_id="SIS-1")
    assert Person.objects.filter(src_system_id="SIS-1").count() == 1


def test_many_people_may_have_no_source_system_id() -> None:
    Person.objects.create(first_name="A", last_name="One", src_system_id=None)
    Person.objects.create(first_name="B", last_name="Two", src_system_id=None)
    assert Person.objects.filter(src_system_id__isnull=True).count() == 2


def test_the_system_phone_type_exists_after_migrating() -> None:
    assert PhoneType.objects.filter(code="SYSTEM", name="System").exists()
