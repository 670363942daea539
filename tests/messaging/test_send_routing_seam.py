"""The send path routes with messaging.selectors, the same reads as the person page and the API
(R6, R7): a text goes where the page says it will, for a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import selectors, services
from people.models import Person, PersonPhone, SmsStatus
from sms_admin import pool
from tests import factories
from tests.sending_support import pool_numbers, student_with_phone

pytestmark = pytest.mark.usefixtures("config", "policy")

CONFIG_READ = 'FROM "sms_admin_smsconfiguration"'


def _phone(person: Person, number: str, **kwargs: Any) -> PersonPhone:
    kwargs.setdefault("phone_type", factories.PhoneTypeFactory(code="cell"))
    phone: PersonPhone = factories.PhoneFactory(person=person, number=number, **kwargs)
    return phone


def _enabled_verified_beats_default(person: Person) -> None:
    _phone(person, "+12025550111", sms_status=SmsStatus.DEFAULT)
    _phone(
        person,
        "+12025550112",
        sms_status=SmsStatus.ENABLED,
        verified_at=timezone.now() - timedelta(days=2),
    )
    _phone(person, "+12025550113", sms_status=SmsStatus.ENABLED, verified_at=timezone.now())


def _default_cell_only(person: Person) -> None:
    _phone(person, "+12025550121", sms_status=SmsStatus.DEFAULT)
    _phone(
        person,
        "+12025550122",
        sms_status=SmsStatus.DEFAULT,
        phone_type=factories.PhoneTypeFactory(code="home"),
    )


def _disabled_and_deleted(person: Person) -> None:
    _phone(person, "+12025550131", sms_status=SmsStatus.DISABLED)
    _phone(person, "+12025550132", sms_status=SmsStatus.ENABLED, deleted=True)


def _no_phone(person: Person) -> None:
    return None


@pytest.mark.parametrize(
    "phones",
    [_enabled_verified_beats_default, _default_cell_only, _disabled_and_deleted, _no_phone],
)
def test_a_text_goes_where_the_person_page_route_says(
    advisor: Any, phones: Callable[[Person], None], django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student = factories.student()
    phones(student)
    shown = selectors.route_for_person(student)

    with django_capture_on_commit_callbacks(execute=False):
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")

    assert text.channel == shown.channel
    expected = shown.phone.number if shown.phone is not None else student.email
    assert text.destination == expected
    assert text.phone_id == (shown.phone.id if shown.phone is not None else None)
    assert text.failure_reason == ("" if shown.channel == "sms" else shown.reason)


def _send_queries(advisor: Person, recipient: Person, capture: Any) -> list[str]:
    with capture(execute=False), CaptureQueriesContext(connection) as ctx:
        services.message_send(sender=advisor, recipient_id=recipient.pk, body="Hi")
    return [q["sql"] for q in ctx.captured_queries]


def test_one_send_costs_the_same_queries_for_one_phone_or_twelve(
    advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    assert pool.sender_number_ensure(person=advisor) is not None
    one, _ = student_with_phone("+12025550140")
    many, _ = student_with_phone("+12025550150")
    for i in range(11):
        _phone(many, f"+12025550{160 + i}")
    _send_queries(advisor, one, django_capture_on_commit_callbacks)  # creates the month's row

    assert len(_send_queries(advisor, one, django_capture_on_commit_callbacks)) == len(
        _send_queries(advisor, many, django_capture_on_commit_callbacks)
    )


def test_one_send_reads_the_configuration_once_for_its_limits_and_its_routing(
    advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    assert pool.sender_number_ensure(person=advisor) is not None
    student, _ = student_with_phone()

    sql = _send_queries(advisor, student, django_capture_on_commit_callbacks)

    assert sum(CONFIG_READ in q for q in sql) == 1
    # The recipient's people-and-phones facts come from one joined query.
    assert sum('FROM "people_person"' in q and "people_personphone" in q for q in sql) == 1


def _bulk_queries(advisor: Person, ids: list[int], capture: Any) -> list[str]:
    with capture(execute=False), CaptureQueriesContext(connection) as ctx:
        services.message_send_bulk(sender=advisor, recipient_ids=ids, body="Hi", batch_size=4)
    return [q["sql"] for q in ctx.captured_queries]


def test_a_bulk_send_costs_a_constant_number_of_queries_per_batch(
    advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    assert pool.sender_number_ensure(person=advisor) is not None
    people = [student_with_phone(f"+12025554{i:03d}")[0] for i in range(12)]
    for person in people[::2]:  # some with a second phone: rows per person must not matter
        _phone(person, f"+12025555{person.pk % 1000:03d}", sms_status=SmsStatus.DISABLED)
    ids = [p.pk for p in people]

    one = _bulk_queries(advisor, ids[:4], django_capture_on_commit_callbacks)
    two = _bulk_queries(advisor, ids[4:12], django_capture_on_commit_callbacks)
    three = _bulk_queries(advisor, ids, django_capture_on_commit_callbacks)

    per_batch = len(two) - len(one)
    assert per_batch > 0
    assert len(three) - len(two) == per_batch
    assert [sum(CONFIG_READ in q for q in sql) for sql in (one, two, three)] == [1, 1, 1]
