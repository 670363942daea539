"""Routing facts read from the database, for one person and for a cohort in batches (R7)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging import routing, selectors
from people.models import (
    SYSTEM_PHONE_TYPE_SRC,
    Person,
    PersonPhone,
    PhoneType,
    RoleKind,
    SmsStatus,
)
from sms_admin import services as sms_admin_services
from sms_admin.models import DefaultStatus, SmsConfiguration
from tests import factories

pytestmark = pytest.mark.django_db


def make_people(count: int, *, phones_each: int, home: PhoneType | None = None) -> None:
    """`count` students with `phones_each` phones, inserted in bulk."""
    role = factories.RoleFactory(code="student", kind=RoleKind.STUDENT)
    cell = factories.PhoneTypeFactory(code="cell")
    start = Person.objects.count()
    people = Person.objects.bulk_create(
        Person(first_name="S", last_name=str(start + i), email=f"s{start + i}@example.edu")
        for i in range(count)
    )
    Person.roles.through.objects.bulk_create(
        Person.roles.through(person_id=p.pk, role_id=role.pk) for p in people
    )
    PersonPhone.objects.bulk_create(
        PersonPhone(
            person=p,
            number=f"+1202{(start + i) * 10 + n:07d}",
            phone_type=home if home and n % 2 else cell,
            sms_status=SmsStatus.ENABLED if n == 1 else SmsStatus.DEFAULT,
        )
        for i, p in enumerate(people)
        for n in range(phones_each)
    )


def test_config_facts_reads_the_default_statuses_and_the_default_sms_phone_type(
    config: SmsConfiguration,
) -> None:
    sms_admin_services.configuration_update(actor=None, student_sms_default=DefaultStatus.OPTED_OUT)

    assert selectors.config_facts() == routing.ConfigFacts(
        student_opted_in=False, staff_opted_in=True, default_type_code="cell"
    )


def test_config_facts_without_a_configuration_row_uses_the_defaults_and_writes_nothing() -> None:
    assert selectors.config_facts() == routing.ConfigFacts(
        student_opted_in=True, staff_opted_in=True, default_type_code=None
    )
    assert not SmsConfiguration.objects.exists()


def test_route_facts_for_person_carry_every_phone_with_its_status_type_and_dates(
    config: SmsConfiguration,
) -> None:
    person = factories.student(email="kim@example.edu")
    verified = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    enabled = factories.PhoneFactory(
        person=person, sms_status=SmsStatus.ENABLED, verified_at=verified
    )
    deleted = factories.PhoneFactory(person=person, deleted=True)

    facts = selectors.route_facts_for_person(person)

    assert facts.id == person.pk
    assert facts.kind == "student"
    assert facts.email == "kim@example.edu"
    assert [(p.id, p.sms_status, p.type_code, p.verified_at, p.deleted) for p in facts.phones] == [
        (enabled.pk, "enabled", "cell", verified, False),
        (deleted.pk, "default", "cell", None, True),
    ]
    assert all(p.created_at is not None for p in facts.phones)


@pytest.mark.parametrize(
    ("role_kinds", "kind"),
    [
        ([RoleKind.STUDENT], "student"),
        ([RoleKind.STUDENT, RoleKind.STAFF], "staff"),
        ([RoleKind.STAFF], "staff"),
        ([], "staff"),
    ],
    ids=["student role only", "student and staff roles", "staff role only", "no role"],
)
def test_a_person_is_a_student_only_with_the_student_role_and_no_staff_role(
    config: SmsConfiguration, role_kinds: list[str], kind: str
) -> None:
    roles = [factories.RoleFactory(code=f"r-{k}", kind=k) for k in role_kinds]
    person = factories.PersonFactory(roles=roles)

    assert selectors.route_facts_for_person(person).kind == kind
    [(_, facts)] = [
        (f.id, f) for f in selectors.route_facts_for_people(Person.objects.filter(pk=person.pk))
    ]
    assert facts.kind == kind


def test_a_system_number_is_marked_and_never_routed_to(config: SmsConfiguration) -> None:
    person = factories.staff()
    system = factories.PhoneTypeFactory(code="system")
    factories.PhoneFactory(
        person=person,
        phone_type=system,
        sms_status=SmsStatus.ENABLED,
        src_system_id="1.AVISO.SMS",
        phone_type_src_system_id=SYSTEM_PHONE_TYPE_SRC,
    )

    route = selectors.route_for_person(person)

    assert route.channel == "email"
    assert route.excluded[0][0].is_system


def test_route_for_person_prefers_the_latest_verified_sms_enabled_phone(
    config: SmsConfiguration,
) -> None:
    person = factories.student()
    factories.PhoneFactory(
        person=person, sms_status=SmsStatus.ENABLED, verified_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    latest = factories.PhoneFactory(
        person=person, sms_status=SmsStatus.ENABLED, verified_at=datetime(2024, 6, 1, tzinfo=UTC)
    )

    route = selectors.route_for_person(person)

    assert (route.channel, route.phone.id if route.phone else None, route.rule) == (
        "sms",
        latest.pk,
        "R2",
    )


def test_with_no_verified_dates_the_oldest_record_is_routed_to_every_time(
    config: SmsConfiguration,
) -> None:
    person = factories.student()
    phones = [factories.PhoneFactory(person=person) for _ in range(3)]
    # The newest record by id is the oldest by creation time: record age decides, not the id.
    PersonPhone.objects.filter(pk=phones[2].pk).update(created_at=datetime(2020, 1, 1, tzinfo=UTC))

    routes = {selectors.route_for_person(person).phone for _ in range(3)}

    assert [p.id for p in routes if p] == [phones[2].pk]


def test_route_for_person_costs_two_queries(config: SmsConfiguration) -> None:
    person = factories.student()
    factories.PhoneFactory(person=person)
    factories.PhoneFactory(person=person, sms_status=SmsStatus.ENABLED)

    with CaptureQueriesContext(connection) as queries:
        selectors.route_for_person(person)

    assert len(queries) == 2


def test_routes_for_people_agree_with_route_for_person(config: SmsConfiguration) -> None:
    home = factories.PhoneTypeFactory(code="home")
    make_people(7, phones_each=3, home=home)
    factories.staff(email="")  # no phone, no email: undeliverable
    people = list(Person.objects.order_by("id"))

    streamed = dict(selectors.routes_for_people(Person.objects.order_by("id"), batch_size=3))

    assert list(streamed) == [p.pk for p in people]
    assert streamed == {p.pk: selectors.route_for_person(p) for p in people}
    assert {r.channel for r in streamed.values()} == {"sms", "none"}


def count_queries(queryset: Any, batch_size: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        routes = list(selectors.routes_for_people(queryset, batch_size=batch_size))
    assert len(routes) == queryset.count()
    return len(queries)


def test_routing_10_or_1000_people_costs_the_same_number_of_queries(
    config: SmsConfiguration,
) -> None:
    make_people(10, phones_each=1)
    small_ids = list(Person.objects.values_list("id", flat=True))
    make_people(990, phones_each=4)

    ten = count_queries(Person.objects.filter(pk__in=small_ids), batch_size=2000)
    thousand = count_queries(Person.objects.all(), batch_size=2000)

    # the configuration, then one streamed query for the people and their phones
    assert ten == thousand == 2


def test_the_queries_do_not_grow_with_the_batches_or_what_they_hold(
    config: SmsConfiguration,
) -> None:
    make_people(100, phones_each=1)
    few_phones = list(Person.objects.values_list("id", flat=True))
    make_people(100, phones_each=4)
    many_phones = Person.objects.exclude(pk__in=few_phones)

    assert count_queries(Person.objects.filter(pk__in=few_phones), batch_size=10) == 2
    assert count_queries(many_phones, batch_size=10) == 2
    assert count_queries(Person.objects.all(), batch_size=7) == 2


def test_routes_for_people_keep_the_querysets_order(config: SmsConfiguration) -> None:
    make_people(5, phones_each=2)

    ids = [pid for pid, _ in selectors.routes_for_people(Person.objects.order_by("-pk"), 3)]

    assert ids == sorted(Person.objects.values_list("pk", flat=True), reverse=True)


def test_a_person_joined_twice_by_the_queryset_is_routed_once_with_each_phone_once(
    config: SmsConfiguration,
) -> None:
    person = factories.PersonFactory(
        roles=[
            factories.RoleFactory(code="student", kind=RoleKind.STUDENT),
            factories.RoleFactory(code="prospect", kind=RoleKind.STUDENT),
        ]
    )
    phones = [factories.PhoneFactory(person=person) for _ in range(2)]

    facts = list(
        selectors.route_facts_for_people(Person.objects.filter(roles__kind=RoleKind.STUDENT))
    )

    assert [(f.id, [p.id for p in f.phones]) for f in facts] == [
        (person.pk, [p.pk for p in phones])
    ]


def test_route_facts_for_an_unsaved_person_raise_does_not_exist(config: SmsConfiguration) -> None:
    with pytest.raises(Person.DoesNotExist):
        selectors.route_facts_for_person(Person(id=987_654))


def test_routes_for_people_are_streamed_lazily() -> None:
    with CaptureQueriesContext(connection) as queries:
        routes = selectors.routes_for_people(Person.objects.all())

    assert len(queries) == 0
    assert list(routes) == []


def test_routes_for_people_refuses_an_empty_batch_size() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        list(selectors.routes_for_people(Person.objects.all(), batch_size=0))
