"""A compiled read gives exactly what its queryset gives, for any argument, on this database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection

from messaging import compiled, selectors
from people.models import Person, PersonPhone
from tests import factories


def _phones_of(person_id: int) -> Any:
    return (
        PersonPhone.objects.filter(person_id=person_id)
        .order_by("pk")
        .values("pk", "number", "verified_at", "deleted", "phone_type__code")
    )


def test_a_compiled_read_returns_the_querysets_rows_for_each_argument(cell: Any) -> None:
    first, second = factories.student(), factories.student()
    factories.PhoneFactory(
        person=first, number="+12025550101", phone_type=cell,
        verified_at=datetime(2026, 3, 4, 5, 6, tzinfo=UTC),
    )  # fmt: skip
    factories.PhoneFactory(person=first, number="+12025550102", phone_type=cell, deleted=True)
    factories.PhoneFactory(person=second, number="+12025550103", phone_type=cell)
    read = compiled.CompiledRead(_phones_of, arity=1)

    for person in (first, second, first):
        assert read.rows(person.pk) == list(_phones_of(person.pk))
    # Aware datetimes and booleans, as the ORM converts them (SQLite stores text and 0/1).
    verified = read.rows(first.pk)[0]["verified_at"]
    assert verified == datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    assert read.rows(first.pk)[1]["deleted"] is True


def test_the_send_paths_reads_match_the_uncompiled_selectors(advisor: Any, config: Any) -> None:
    student = factories.student()
    factories.PhoneFactory(person=student, number="+12025550104")

    facts = selectors.route_facts_for_person_id(student.pk)

    streamed = list(selectors.route_facts_for_people(Person.objects.filter(pk=student.pk)))
    assert facts == streamed[0]
    assert selectors.route_facts_for_person_id(student.pk + 1000) is None
    assert selectors.send_context(advisor.pk).sender_permitted is True
    assert selectors.send_context(None).sender_permitted is False


def test_a_read_whose_argument_does_not_reach_the_query_is_refused(db: Any) -> None:
    # Running it would silently ignore the argument: refuse it at the first use instead.
    read = compiled.CompiledRead(lambda person_id: Person.objects.values("pk"), arity=1)

    with pytest.raises(ValueError, match="not compiled as a query parameter"):
        read.rows(3)


def _text(sender: Person, recipient: Person, body: str) -> Any:
    from messaging.models import Channel, Direction, Message

    return Message(
        direction=Direction.OUTBOUND, sender=sender, recipient_id=recipient.pk,
        channel=Channel.SMS, destination="+12025550105", from_number="+12015550100",
        body=body, segments=1, encoding="GSM-7",
    )  # fmt: skip


def test_a_compiled_insert_stores_the_row_bulk_create_stores(advisor: Any) -> None:
    from messaging.models import Message

    student = factories.student()
    by_orm = Message.objects.bulk_create([_text(advisor, student, "same")])[0]
    text = _text(advisor, student, "same")

    compiled.CompiledInsert(Message).save(text)

    assert text.pk is not None and text.pk != by_orm.pk
    assert text._state.adding is False
    # auto_now_add / auto_now are set on the object, as the ORM's insert sets them.
    assert text.created_at is not None
    row = Message.objects.filter(pk=text.pk).values().get()
    orm_row = Message.objects.filter(pk=by_orm.pk).values().get()
    assert row["created_at"] == text.created_at and row["token"] == text.token
    varying = {"id", "token", "created_at", "updated_at"}
    assert {k: v for k, v in row.items() if k not in varying} == {
        k: v for k, v in orm_row.items() if k not in varying
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_on_postgresql_a_compiled_read_is_prepared_once_per_connection(cell: Any) -> None:
    from django.test.utils import CaptureQueriesContext

    person = factories.student()
    factories.PhoneFactory(person=person, number="+12025550106", phone_type=cell)
    read = compiled.CompiledRead(_phones_of, arity=1)

    with CaptureQueriesContext(connection) as ctx:
        first, again = read.rows(person.pk), read.rows(person.pk)

    assert first == again == list(_phones_of(person.pk))
    # Two reads, each one EXECUTE of the statement prepared by the first (not itself counted).
    assert [q["sql"].split("(")[0] for q in ctx.captured_queries] == [f"EXECUTE {read._name}"] * 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [read._name])
        (statement,) = cursor.fetchone()
    assert 'FROM "people_personphone"' in statement and "$1" in statement


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_on_postgresql_a_prepared_read_of_a_list_of_ids_is_planned_once_not_per_execution(
    cell: Any,
) -> None:
    # A worker's batch reads its recipients' facts by a list of ids: PostgreSQL planned that
    # read again at every batch (its plan for the given ids always looked cheaper than one for
    # any list), which took more of its CPU than running it.
    people = [factories.student() for _ in range(3)]
    for i, person in enumerate(people):
        factories.PhoneFactory(person=person, number=f"+1202555017{i}", phone_type=cell)

    for person in people * 3:
        assert [f.id for f in selectors.route_facts_for_person_ids([person.pk])] == [person.pk]

    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("force_generic_plan",)
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s",
            [selectors._people_read._name],
        )
        generic, custom = cursor.fetchone()
    assert custom == 0 and generic >= 1


def _alter_number(length: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE people_personphone ALTER COLUMN number TYPE varchar({length})")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_prepared_read_survives_a_migration_changing_a_column_it_returns() -> None:
    # A migration run while workers keep their connections (e.g. a longer CharField) makes
    # PostgreSQL refuse the prepared plan ("cached plan must not change result type") on every
    # later EXECUTE of that connection: the read prepares it again instead.
    from django.db import NotSupportedError, transaction

    cell = factories.PhoneTypeFactory(code="cell", name="Cell")
    person = factories.student()
    factories.PhoneFactory(person=person, number="+12025550107", phone_type=cell)
    read = compiled.CompiledRead(_phones_of, arity=1)
    expected = list(_phones_of(person.pk))
    assert read.rows(person.pk) == expected
    try:
        _alter_number(40)
        # Outside a transaction: prepared again and run at once.
        assert read.rows(person.pk) == expected
        _alter_number(20)
        # Inside one the failed EXECUTE has aborted it; the next use prepares again.
        with pytest.raises(NotSupportedError), transaction.atomic():
            read.rows(person.pk)
        assert read.rows(person.pk) == expected
        with transaction.atomic():
            assert read.rows(person.pk) == expected
    finally:
        _alter_number(20)


def _texts_of(message_ids: Any) -> Any:
    from messaging.models import Message

    return Message.objects.filter(pk__in=message_ids).order_by("pk").values("pk", "body")


def test_a_compiled_read_of_a_list_of_ids_returns_the_querysets_rows_for_any_length(
    advisor: Any,
) -> None:
    from messaging.models import Message

    student = factories.student()
    ids = [
        m.pk
        for m in Message.objects.bulk_create(
            [_text(advisor, student, f"text {i}") for i in range(5)]
        )
    ]
    read = compiled.CompiledRead(_texts_of, arity=1, lists=(0,))

    # Any length from one statement (on PostgreSQL one prepared statement with an array).
    for chosen in ([ids[2]], ids[:3], ids, [ids[4], ids[0], 10**9], []):
        assert read.rows(chosen) == list(_texts_of(chosen))
    assert read.rows([]) == []


def test_the_batch_reads_match_the_uncompiled_selectors(advisor: Any, config: Any) -> None:
    from messaging import selectors as messaging_selectors

    people = [factories.student() for _ in range(3)]
    for i, person in enumerate(people):
        factories.PhoneFactory(person=person, number=f"+1202555011{i}")
    ids = [p.pk for p in people]

    compiled_facts = messaging_selectors.route_facts_for_person_ids(ids)

    assert compiled_facts == list(
        messaging_selectors.route_facts_for_people(Person.objects.filter(pk__in=ids))
    )
    assert messaging_selectors.route_facts_for_person_ids([]) == []


def test_a_list_argument_must_be_an_in_lookup(db: Any) -> None:
    read = compiled.CompiledRead(
        lambda ids: Person.objects.filter(pk=ids[0]).values("pk"), arity=1, lists=(0,)
    )

    with pytest.raises(ValueError, match="compiled as IN"):
        read.rows([3])
