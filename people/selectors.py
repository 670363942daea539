"""Reads of people and phones."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from people.models import Person, PersonPhone


def person_list() -> QuerySet[Person]:
    return Person.objects.prefetch_related("roles").select_related("user")


def person_phones(person: Person) -> QuerySet[PersonPhone]:
    return person.phones.select_related("phone_type", "verified_by").order_by("deleted", "id")


def person_last_verified_phone(person: Person) -> PersonPhone | None:
    return (
        person.phones.filter(deleted=False, verified_at__isnull=False)
        .select_related("verified_by")
        .order_by("-verified_at", "id")
        .first()
    )


def person_search(search: str = "") -> QuerySet[Person]:
    """People matching every word of `search` in name, source id or email, with their roles."""
    people = Person.objects.prefetch_related("roles").order_by("last_name", "first_name", "id")
    for word in search.split():
        people = people.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(src_system_id__icontains=word)
            | Q(email__icontains=word)
        )
    return people
