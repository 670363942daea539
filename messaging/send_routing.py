"""Routing facts for the send path, in a fixed number of queries.

Temporary: messaging.selectors (route_for_person, routes_for_people), written in a parallel
branch, does the same for the person page and the API; once it is merged the send path should
call it and this module should go.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef

from messaging import routing
from people.models import Person, PersonPhone, RoleKind
from sms_admin import services as sms_admin_services
from sms_admin.models import DefaultStatus, SmsConfiguration


def configuration_for_sending() -> SmsConfiguration:
    """The configuration row with its default phone type, in one query."""
    config = SmsConfiguration.objects.select_related("default_sms_phone_type").filter(pk=1).first()
    return config if config is not None else sms_admin_services.configuration_get()


def config_facts(config: SmsConfiguration | None = None) -> routing.ConfigFacts:
    config = config or configuration_for_sending()
    default_type = config.default_sms_phone_type
    return routing.ConfigFacts(
        student_opted_in=config.student_sms_default == DefaultStatus.OPTED_IN,
        staff_opted_in=config.staff_sms_default == DefaultStatus.OPTED_IN,
        default_type_code=default_type.code if default_type is not None else None,
    )


def _phone_facts(phone: PersonPhone) -> routing.PhoneFacts:
    return routing.PhoneFacts(
        id=phone.pk,
        number=phone.number,
        type_code=phone.phone_type.code,
        sms_status=phone.sms_status,  # type: ignore[arg-type]
        deleted=phone.deleted,
        verified_at=phone.verified_at,
        created_at=phone.created_at,
        is_system=phone.is_system,
    )


def people_facts(person_ids: Iterable[int]) -> dict[int, routing.PersonFacts]:
    """Facts for many people in two queries (people with their role kinds, phones), whatever
    their count."""
    ids = list(person_ids)
    holds = Person.roles.through.objects.filter(person_id=OuterRef("pk"))
    people = Person.objects.filter(pk__in=ids).annotate(
        has_student=Exists(holds.filter(role__kind=RoleKind.STUDENT)),
        has_staff=Exists(holds.filter(role__kind=RoleKind.STAFF)),
    )
    rows = list(people.values_list("pk", "email", "has_student", "has_staff"))
    phones: dict[int, list[routing.PhoneFacts]] = {row[0]: [] for row in rows}
    for phone in PersonPhone.objects.filter(person_id__in=ids).select_related("phone_type"):
        phones[phone.person_id].append(_phone_facts(phone))
    return {
        pid: routing.PersonFacts(
            id=pid,
            kind="student" if has_student and not has_staff else "staff",
            email=email,
            phones=tuple(phones[pid]),
        )
        for pid, email, has_student, has_staff in rows
    }


def route_for_person_id(person_id: int) -> routing.Route:
    """The route of a text to one person now.

    :raises Person.DoesNotExist: for an unknown id.
    """
    facts = people_facts([person_id])
    if person_id not in facts:
        raise Person.DoesNotExist(f"No person with id {person_id}.")
    return routing.route(facts[person_id], config_facts())
