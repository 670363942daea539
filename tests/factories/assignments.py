"""Test data for the pages: a staff member holding a pool number, as the sending pipeline
leaves it (a system phone record plus an active assignment)."""

from __future__ import annotations

import itertools

from people.models import SYSTEM_PHONE_TYPE_SRC, SYSTEM_SRC_SUFFIX, Person, PersonPhone, PhoneType
from sms_admin.models import SenderAssignment, SenderNumber
from tests import factories

_seq = itertools.count(1)


def system_phone_type() -> PhoneType:
    return PhoneType.objects.get_or_create(code="SYSTEM", defaults={"name": "System"})[0]


def assignment(person: Person | None = None, number: str | None = None) -> SenderAssignment:
    person = person or factories.staff()
    number = number or f"+1201555{next(_seq) % 10000:04d}"
    sender = SenderNumber.objects.get_or_create(number=number)[0]
    phone = PersonPhone.objects.create(
        person=person,
        number=number,
        phone_type=system_phone_type(),
        src_system_id=f"{number}.{SYSTEM_SRC_SUFFIX}",
        phone_type_src_system_id=SYSTEM_PHONE_TYPE_SRC,
    )
    return SenderAssignment.objects.create(sender_number=sender, person=person, phone=phone)


def assignments_bulk(count: int) -> None:
    """`count` staff members each holding a number, in a handful of queries."""
    kind = system_phone_type()
    start = next(_seq) * 100000
    people = Person.objects.bulk_create(
        Person(first_name="Staff", last_name=f"Member {i}", src_system_id=f"BULK-{start + i}")
        for i in range(count)
    )
    senders = SenderNumber.objects.bulk_create(
        SenderNumber(number=f"+1303{start // 100000 % 1000:03d}{i:04d}") for i in range(count)
    )
    phones = PersonPhone.objects.bulk_create(
        PersonPhone(
            person=p,
            number=s.number,
            phone_type=kind,
            src_system_id=f"{s.number}.{SYSTEM_SRC_SUFFIX}",
            phone_type_src_system_id=SYSTEM_PHONE_TYPE_SRC,
        )
        for p, s in zip(people, senders, strict=True)
    )
    SenderAssignment.objects.bulk_create(
        SenderAssignment(sender_number=s, person=p, phone=ph)
        for p, s, ph in zip(people, senders, phones, strict=True)
    )
