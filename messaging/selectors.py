"""Reads that feed the routing rules: facts for one person or a whole cohort, and their routes.

Query budget (R7): `route_for_person` costs 3 queries (configuration, roles, phones);
`routes_for_people` costs 1 for the configuration, 1 streamed query for the people (with their
kind computed in SQL), then 1 query per batch for the phones, whatever the batch holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from messaging import routing
from people.models import SYSTEM_PHONE_TYPE_SRC, Person, PersonPhone, Role, RoleKind
from sms_admin.models import DefaultStatus, SmsConfiguration

DEFAULT_BATCH_SIZE = 2000

# The columns of a phone that routing needs, in PhoneFacts order after the person id.
_PHONE_COLUMNS = (
    "person_id",
    "id",
    "number",
    "phone_type__code",
    "sms_status",
    "deleted",
    "verified_at",
    "created_at",
    "phone_type_src_system_id",
)


def config_facts() -> routing.ConfigFacts:
    """The configuration's default statuses (C1, C2) and default SMS phone type (C3); 1 query.

    Reads only: with no configuration row yet, the model's defaults apply (both opted in, no
    default SMS phone type).
    """
    row = (
        SmsConfiguration.objects.filter(pk=1)
        .values_list("student_sms_default", "staff_sms_default", "default_sms_phone_type__code")
        .first()
    )
    if row is None:
        return routing.ConfigFacts(
            student_opted_in=True, staff_opted_in=True, default_type_code=None
        )
    student_default, staff_default, type_code = row
    return routing.ConfigFacts(
        student_opted_in=student_default == DefaultStatus.OPTED_IN,
        staff_opted_in=staff_default == DefaultStatus.OPTED_IN,
        default_type_code=type_code,
    )


def _kind(is_student: bool) -> routing.Kind:
    return "student" if is_student else "staff"


def _phone_facts(row: tuple[Any, ...]) -> routing.PhoneFacts:
    _, phone_id, number, type_code, status, deleted, verified_at, created_at, type_src = row
    return routing.PhoneFacts(
        id=phone_id,
        number=number,
        type_code=type_code,
        sms_status=status,
        deleted=deleted,
        verified_at=verified_at,
        created_at=created_at,
        is_system=type_src == SYSTEM_PHONE_TYPE_SRC,
    )


def _phones_by_person(person_ids: list[int]) -> dict[int, list[routing.PhoneFacts]]:
    """Every phone (deleted and system ones too, for the explanation) of `person_ids`; 1 query."""
    phones: dict[int, list[routing.PhoneFacts]] = {}
    rows = (
        PersonPhone.objects.filter(person_id__in=person_ids)
        .order_by("id")
        .values_list(*_PHONE_COLUMNS)
    )
    for row in rows:
        phones.setdefault(row[0], []).append(_phone_facts(row))
    return phones


def route_facts_for_person(person: Person) -> routing.PersonFacts:
    """The routing facts of one person: their kind (P1), email and phones; 2 queries."""
    kinds = set(Role.objects.filter(people=person).values_list("kind", flat=True))
    is_student = RoleKind.STUDENT in kinds and RoleKind.STAFF not in kinds
    phones = _phones_by_person([person.pk]).get(person.pk, [])
    return routing.PersonFacts(
        id=person.pk, kind=_kind(is_student), email=person.email, phones=tuple(phones)
    )


def route_for_person(person: Person, *, config: routing.ConfigFacts | None = None) -> routing.Route:
    """Where a text to `person` goes now (R1-R6); 3 queries, 2 when `config` is given."""
    return routing.route(route_facts_for_person(person), config or config_facts())


def _batches(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def route_facts_for_people(
    queryset: QuerySet[Person], *, batch_size: int = DEFAULT_BATCH_SIZE
) -> Iterator[routing.PersonFacts]:
    """Stream the routing facts of every person in `queryset`, in its order.

    The people come from one streamed query (a server-side cursor on PostgreSQL), read
    `batch_size` at a time; each batch costs one more query for its phones. Memory stays bounded
    by the batch size however large the cohort.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    # The person's kind (P1) is computed in SQL, in the same streamed query.
    holds = Person.roles.through.objects.filter(person_id=OuterRef("pk"))
    rows = (
        queryset.annotate(
            _routing_student=Exists(holds.filter(role__kind=RoleKind.STUDENT)),
            _routing_staff=Exists(holds.filter(role__kind=RoleKind.STAFF)),
        )
        .values_list("pk", "email", "_routing_student", "_routing_staff")
        .iterator(chunk_size=batch_size)
    )
    for batch in _batches(rows, batch_size):
        phones = _phones_by_person([row[0] for row in batch])
        for person_id, email, has_student, has_staff in batch:
            yield routing.PersonFacts(
                id=person_id,
                kind=_kind(has_student and not has_staff),
                email=email,
                phones=tuple(phones.get(person_id, ())),
            )


def routes_for_people(
    queryset: QuerySet[Person],
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    config: routing.ConfigFacts | None = None,
) -> Iterator[tuple[int, routing.Route]]:
    """Stream `(person id, route)` for every person in `queryset` (R7).

    Queries: 1 for the configuration (none when `config` is given), 1 streamed for the people,
    then 1 per batch of `batch_size` people for their phones.
    """
    config = config or config_facts()
    for facts in route_facts_for_people(queryset, batch_size=batch_size):
        yield facts.id, routing.route(facts, config)
