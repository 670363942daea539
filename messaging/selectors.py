"""TEMPORARY: a minimal `route_for_person` so the person page can show the route (R6).

The routing helper writes the real messaging/selectors.py on another branch (batch selectors
with a constant number of queries); at merge the lead keeps that version, which must keep
`route_for_person(person) -> messaging.routing.Route`.
"""

from __future__ import annotations

from typing import cast

from django.utils import timezone

from messaging import routing
from people.models import Person
from people.selectors import person_kind
from sms_admin import services as sms_admin_services
from sms_admin.models import DefaultStatus


def route_for_person(person: Person) -> routing.Route:
    """Where a text to `person` would go now, with the explanation (R1-R6)."""
    config = sms_admin_services.configuration_get()
    default_type = config.default_sms_phone_type
    phones = tuple(
        routing.PhoneFacts(
            id=p.pk,
            number=p.number,
            type_code=p.phone_type.code,
            sms_status=cast(routing.SmsStatusValue, p.sms_status),
            deleted=p.deleted,
            # In the institution's time zone, so the explanation reads like the rest of the page.
            verified_at=timezone.localtime(p.verified_at) if p.verified_at else None,
            created_at=p.created_at,
            is_system=p.is_system,
        )
        for p in person.phones.select_related("phone_type").order_by("id")
    )
    facts = routing.PersonFacts(
        id=person.pk,
        kind=cast(routing.Kind, str(person_kind(person))),
        email=person.email,
        phones=phones,
    )
    return routing.route(
        facts,
        routing.ConfigFacts(
            student_opted_in=config.student_sms_default == DefaultStatus.OPTED_IN,
            staff_opted_in=config.staff_sms_default == DefaultStatus.OPTED_IN,
            default_type_code=default_type.code if default_type else None,
        ),
    )
