"""Reads of people and phones."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import OuterRef, Q, QuerySet, Subquery

from people.models import OWN_OPT_OUT, Person, PersonPhone, PhoneStatusChange, SmsStatus


def person_list() -> QuerySet[Person]:
    return Person.objects.prefetch_related("roles").select_related("user")


def person_phones(person: Person) -> QuerySet[PersonPhone]:
    return person.phones.select_related("phone_type", "verified_by").order_by("deleted", "id")


def phones_opt_out_changes(phone_ids: Iterable[int]) -> dict[int, PhoneStatusChange]:
    """For each of the phones that is SMS Disabled by the person's own opt-out (its latest status
    change is a STOP or Twilio's 21610), that change, by phone id; one query."""
    latest = PhoneStatusChange.objects.filter(phone_id=OuterRef("phone_id")).order_by(
        "-changed_at", "-id"
    )
    changes = PhoneStatusChange.objects.select_related("phone").filter(
        OWN_OPT_OUT,
        phone_id__in=list(phone_ids),
        phone__sms_status=SmsStatus.DISABLED,
        new_status=SmsStatus.DISABLED,
        pk=Subquery(latest.values("pk")[:1]),
    )
    return {change.phone_id: change for change in changes}


def phone_opt_out_change(phone: PersonPhone) -> PhoneStatusChange | None:
    """The person's own opt-out that made `phone` SMS Disabled, if that is why it is."""
    if phone.sms_status != SmsStatus.DISABLED:
        return None
    return phones_opt_out_changes([phone.pk]).get(phone.pk)


def person_last_verified_phone(person: Person) -> PersonPhone | None:
    return (
        person.phones.filter(deleted=False, verified_at__isnull=False)
        .select_related("verified_by")
        .order_by("-verified_at", "id")
        .first()
    )


def person_search(search: str = "", role: str = "") -> QuerySet[Person]:
    """People matching every word of `search` in name, source id or email, with their roles;
    with `role` (a role code), only the people holding it."""
    people = Person.objects.prefetch_related("roles").order_by("last_name", "first_name", "id")
    if role:
        people = people.filter(roles__code=role)
    for word in search.split():
        people = people.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(src_system_id__icontains=word)
            | Q(email__icontains=word)
        )
    return people
