"""SIS person import (P7): people and their SIS phones upserted by source id, all or nothing.

The import never sets or resets a phone's SMS status (seed: "SS&E does not set or reset the SMS
Enabled status during the SIS Person Import process"): new phones arrive SMS Default, updated and
restored phones keep theirs, soft-deleted phones keep theirs. System (Twilio) numbers and phones
without a `src_system_id` (added by hand or by a prospect upload) are never touched.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from people import csv_text, phone_numbers, services
from people.models import (
    SYSTEM_PHONE_TYPE_CODE,
    SYSTEM_PHONE_TYPE_SRC,
    SYSTEM_SRC_SUFFIX,
    Person,
    PersonPhone,
    PhoneType,
    Role,
    SmsStatus,
)

logger = logging.getLogger(__name__)

CSV_COLUMNS = (
    "person_src_system_id",
    "first_name",
    "last_name",
    "email",
    "roles",
    "phone_src_system_id",
    "number",
    "phone_type",
    "phone_type_src_system_id",
)
CSV_REQUIRED_COLUMNS = (
    "person_src_system_id",
    "first_name",
    "last_name",
    "roles",
    "phone_src_system_id",
    "number",
    "phone_type",
)
PHONE_COLUMNS = ("phone_src_system_id", "number", "phone_type", "phone_type_src_system_id")
TEXT_MAX_LENGTH = 128  # src ids, names (the model columns' length)
EMAIL_MAX_LENGTH = 254
IN_CHUNK = 1000  # ids per `__in` query, well under every backend's parameter limit

T = TypeVar("T")


@dataclass(frozen=True)
class SisPhoneRow:
    """One phone of a person as the SIS feed has it; `phone_type` is a phone type code."""

    src_system_id: str
    number: str
    phone_type: str
    phone_type_src_system_id: str = ""
    label: str = ""
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class SisRow:
    """One person of the SIS feed with all of their phones; `roles` are role codes."""

    src_system_id: str
    first_name: str
    last_name: str
    email: str = ""
    roles: tuple[str, ...] = ()
    phones: tuple[SisPhoneRow, ...] = ()
    label: str = ""
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class SisRowError:
    row: str
    messages: tuple[str, ...]


@dataclass(frozen=True)
class SisImportResult:
    people_created: int = 0
    people_updated: int = 0
    people_unchanged: int = 0
    phones_added: int = 0
    phones_updated: int = 0
    phones_deleted: int = 0
    phones_unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "people_created": self.people_created,
            "people_updated": self.people_updated,
            "people_unchanged": self.people_unchanged,
            "phones_added": self.phones_added,
            "phones_updated": self.phones_updated,
            "phones_deleted": self.phones_deleted,
            "phones_unchanged": self.phones_unchanged,
        }


class SisImportError(ValidationError):
    """The feed has errors; `row_errors` names each bad row. Nothing was saved."""

    def __init__(self, row_errors: Sequence[SisRowError]) -> None:
        self.row_errors = list(row_errors)
        super().__init__(
            f"{len(self.row_errors)} row(s) have errors; nothing was imported.", code="invalid"
        )


@dataclass
class _CheckedPhone:
    row: SisPhoneRow
    number: str
    phone_type: PhoneType


@dataclass
class _CheckedPerson:
    row: SisRow
    roles: list[Role]
    phones: list[_CheckedPhone] = field(default_factory=list)


def _chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _text_problems(name: str, value: str, *, required: bool, max_length: int) -> list[str]:
    if "\x00" in value:
        return [f"{name} contains a NUL character."]
    if required and not value:
        return [f"{name} is empty."]
    if len(value) > max_length:
        return [f"{name} is longer than {max_length} characters."]
    return []


def _known(codes: Iterable[str]) -> str:
    return ", ".join(sorted(codes)) or "none defined"


def _is_system_phone(phone: PersonPhone, system_type_ids: set[int]) -> bool:
    return (
        phone.phone_type_src_system_id == SYSTEM_PHONE_TYPE_SRC
        or phone.src_system_id.endswith(SYSTEM_SRC_SUFFIX)
        or phone.phone_type_id in system_type_ids
    )


def _check(rows: Sequence[SisRow]) -> tuple[list[_CheckedPerson], list[SisRowError]]:
    """Check every row against the roles and phone types; two queries, nothing written."""
    roles = {r.code: r for r in Role.objects.all()}
    types = {t.code: t for t in PhoneType.objects.all()}
    checked: list[_CheckedPerson] = []
    errors: list[SisRowError] = []
    first_label: dict[str, str] = {}
    for index, row in enumerate(rows):
        label = row.label or f"people[{index}]"
        problems = list(row.problems)
        problems += _text_problems(
            "src_system_id", row.src_system_id, required=True, max_length=TEXT_MAX_LENGTH
        )
        problems += _text_problems(
            "first_name", row.first_name, required=True, max_length=TEXT_MAX_LENGTH
        )
        problems += _text_problems(
            "last_name", row.last_name, required=True, max_length=TEXT_MAX_LENGTH
        )
        email_problems = _text_problems(
            "email", row.email, required=False, max_length=EMAIL_MAX_LENGTH
        )
        problems += email_problems
        if row.email and not email_problems:
            try:
                validate_email(row.email)
            except ValidationError:
                problems.append(f"'{row.email}' is not an email address.")
        if row.src_system_id:
            first = first_label.setdefault(row.src_system_id, label)
            if first != label:
                problems.append(
                    f"src_system_id '{row.src_system_id}' is already listed at {first}."
                )
        if not row.roles:
            problems.append("roles is empty: an SIS person needs at least one role code.")
        unknown_roles = [c for c in dict.fromkeys(row.roles) if c not in roles]
        if unknown_roles:
            problems.append(
                f"Unknown role code(s): {', '.join(unknown_roles)} (known: {_known(roles)})."
            )
        if problems:
            errors.append(SisRowError(row=label, messages=tuple(problems)))
        person = _CheckedPerson(
            row=row, roles=[roles[c] for c in dict.fromkeys(row.roles) if c in roles]
        )
        seen_phones: dict[str, str] = {}
        seen_numbers: dict[str, str] = {}
        for phone_index, phone in enumerate(row.phones):
            phone_label = phone.label or f"{label}.phones[{phone_index}]"
            checked_phone, phone_problems = _check_phone(phone, types, seen_phones, phone_label)
            if checked_phone is not None:
                first = seen_numbers.setdefault(checked_phone.number, phone_label)
                if first != phone_label:
                    phone_problems.append(
                        f"{checked_phone.number} is already listed for this person at {first}."
                    )
            if phone_problems:
                errors.append(SisRowError(row=phone_label, messages=tuple(phone_problems)))
            elif checked_phone is not None:
                person.phones.append(checked_phone)
        checked.append(person)
    return checked, errors


def _check_phone(
    phone: SisPhoneRow, types: dict[str, PhoneType], seen: dict[str, str], label: str
) -> tuple[_CheckedPhone | None, list[str]]:
    problems = list(phone.problems)
    problems += _text_problems(
        "phone src_system_id", phone.src_system_id, required=True, max_length=TEXT_MAX_LENGTH
    )
    problems += _text_problems(
        "phone_type_src_system_id",
        phone.phone_type_src_system_id,
        required=False,
        max_length=TEXT_MAX_LENGTH,
    )
    if phone.src_system_id.endswith(SYSTEM_SRC_SUFFIX) or (
        phone.phone_type_src_system_id == SYSTEM_PHONE_TYPE_SRC
    ):
        problems.append(
            "System (Twilio) numbers come from the sender pool; the SIS import cannot add or "
            "change them."
        )
    if phone.src_system_id:
        first = seen.setdefault(phone.src_system_id, label)
        if first != label:
            problems.append(
                f"phone src_system_id '{phone.src_system_id}' is already listed for this person "
                f"at {first}."
            )
    number = ""
    if "\x00" in phone.number:
        problems.append("number contains a NUL character.")
    else:
        try:
            number = phone_numbers.phone_number_normalize(phone.number)
        except ValidationError as exc:
            problems.append(exc.messages[0])
    phone_type = types.get(phone.phone_type)
    if not phone.phone_type:
        problems.append("phone_type is empty.")
    elif phone.phone_type == SYSTEM_PHONE_TYPE_CODE:
        problems.append(f"Phone type '{SYSTEM_PHONE_TYPE_CODE}' is for system numbers only.")
    elif phone_type is None:
        known = _known(c for c in types if c != SYSTEM_PHONE_TYPE_CODE)
        problems.append(f"Unknown phone type '{phone.phone_type[:64]}' (known: {known}).")
    if problems or phone_type is None:
        return None, problems
    return _CheckedPhone(row=phone, number=number, phone_type=phone_type), []


def sis_rows_check(rows: Iterable[SisRow]) -> list[SisRowError]:
    """Every row's errors, in feed order; nothing is written."""
    return _check(list(rows))[1]


def sis_people_import(
    *, rows: Iterable[SisRow], actor: Any = None, permitted_role_ids: Collection[int] = ()
) -> SisImportResult:
    """Upsert the feed's people by `src_system_id`, and each person's SIS phones by theirs (P7).

    For each person in the feed: new phones are added SMS Default; known phones get the feed's
    number and type (a changed number loses its verified mark, which vouched for the old number);
    a soft-deleted phone that is back in the feed is restored; the person's other SIS phones are
    soft-deleted. No phone's SMS status is ever written, and no status change is recorded. System
    numbers and phones without a `src_system_id` are left alone. People not in the feed are left
    alone. The feed's roles replace the person's roles; the login user link is kept. Giving
    someone a permitted role (`permitted_role_ids`) is an administrator's act, recorded like
    the people API's (people.services).

    :raises SisImportError: when any row is invalid (every bad row is named); nothing is saved.
    :raises PermissionDenied: when `actor` is not an administrator and the feed gives someone a
        permitted role; nothing is saved.
    :raises ValidationError: when a concurrent import created the same people first.
    """
    feed = list(rows)
    checked, errors = _check(feed)
    if errors:
        raise SisImportError(errors)
    try:
        with transaction.atomic():
            result = _write(checked, actor=actor, permitted_role_ids=permitted_role_ids)
    except IntegrityError as exc:
        raise ValidationError(
            "Another change to these people was saved at the same moment; nothing was "
            "imported. Run the import again.",
            code="conflict",
        ) from exc
    logger.info("SIS import by %s: %s", getattr(actor, "pk", None), result.as_dict())
    return result


def _write(
    checked: list[_CheckedPerson], *, actor: Any, permitted_role_ids: Collection[int]
) -> SisImportResult:
    now = timezone.now()
    through = Person.roles.through
    src_ids = [p.row.src_system_id for p in checked]
    existing: dict[str, Person] = {}
    for src_chunk in _chunks(src_ids):
        # Locking the people serialises imports (and their phones) of the same people.
        for found in (
            Person.objects.select_for_update().filter(src_system_id__in=src_chunk).order_by("id")
        ):
            assert found.src_system_id is not None
            existing[found.src_system_id] = found
    existing_ids = [p.pk for p in existing.values()]
    role_ids: dict[int, set[int]] = {pk: set() for pk in existing_ids}
    phones_of: dict[int, dict[str, list[PersonPhone]]] = {pk: {} for pk in existing_ids}
    system_type_ids = set(
        PhoneType.objects.filter(code=SYSTEM_PHONE_TYPE_CODE).values_list("id", flat=True)
    )
    for chunk in _chunks(existing_ids):
        for person_id, role_id in through.objects.filter(person_id__in=chunk).values_list(
            "person_id", "role_id"
        ):
            role_ids[person_id].add(role_id)
        phones = (
            PersonPhone.objects.select_for_update()
            .filter(person_id__in=chunk)
            .exclude(src_system_id="")
            .order_by("deleted", "id")  # a live record is matched before a deleted duplicate
        )
        for phone in phones:
            if not _is_system_phone(phone, system_type_ids):
                phones_of[phone.person_id].setdefault(phone.src_system_id, []).append(phone)

    new_people: dict[str, Person] = {}
    changed_people: list[Person] = []
    roles_of_new: list[tuple[Person, list[Role]]] = []
    roles_reset: list[tuple[Person, list[Role]]] = []
    # (row label, person, roles added, ids of roles taken away) for the permitted-role rule.
    role_changes: list[tuple[str, Person, list[Role], set[int]]] = []
    people_updated = people_unchanged = 0
    for index, item in enumerate(checked):
        row = item.row
        person = existing.get(row.src_system_id)
        label = row.label or f"people[{index}]"
        if person is None:
            person = Person(
                src_system_id=row.src_system_id,
                first_name=row.first_name,
                last_name=row.last_name,
                email=row.email,
            )
            new_people[row.src_system_id] = person
            roles_of_new.append((person, item.roles))
            role_changes.append((label, person, item.roles, set()))
            continue
        fields_changed = (person.first_name, person.last_name, person.email) != (
            row.first_name,
            row.last_name,
            row.email,
        )
        roles_changed = role_ids[person.pk] != {r.pk for r in item.roles}
        if fields_changed:
            person.first_name, person.last_name, person.email = (
                row.first_name,
                row.last_name,
                row.email,
            )
            changed_people.append(person)
        if roles_changed:
            roles_reset.append((person, item.roles))
            role_changes.append(
                (
                    label,
                    person,
                    [r for r in item.roles if r.pk not in role_ids[person.pk]],
                    role_ids[person.pk] - {r.pk for r in item.roles},
                )
            )
        if fields_changed or roles_changed:
            people_updated += 1
        else:
            people_unchanged += 1

    # Checked before anything is written; recorded once the new people have their ids.
    _permitted_roles_check(role_changes, actor=actor, permitted_role_ids=permitted_role_ids)
    Person.objects.bulk_create(list(new_people.values()))
    if changed_people:
        Person.objects.bulk_update(changed_people, ["first_name", "last_name", "email"])
    for chunk in _chunks([p.pk for p, _ in roles_reset]):
        through.objects.filter(person_id__in=chunk).delete()
    through.objects.bulk_create(
        [
            through(person_id=p.pk, role_id=r.pk)
            for p, roles in [*roles_of_new, *roles_reset]
            for r in roles
        ]
    )

    _permitted_roles_record(role_changes, actor=actor, permitted_role_ids=permitted_role_ids)

    to_add: list[PersonPhone] = []
    to_update: list[PersonPhone] = []
    to_delete: list[int] = []
    phones_unchanged = 0
    for item in checked:
        person = existing.get(item.row.src_system_id) or new_people[item.row.src_system_id]
        known = phones_of.get(person.pk, {})
        for checked_phone in item.phones:
            candidates = known.get(checked_phone.row.src_system_id)
            if not candidates:
                to_add.append(
                    PersonPhone(
                        person=person,
                        number=checked_phone.number,
                        phone_type=checked_phone.phone_type,
                        sms_status=SmsStatus.DEFAULT,
                        src_system_id=checked_phone.row.src_system_id,
                        phone_type_src_system_id=checked_phone.row.phone_type_src_system_id,
                    )
                )
                continue
            phone = candidates.pop(0)
            if _phone_apply(phone, checked_phone, now):
                to_update.append(phone)
            else:
                phones_unchanged += 1
        # Whatever SIS phone of this person the feed did not name is gone from the SIS.
        to_delete += [p.pk for same in known.values() for p in same if not p.deleted]

    PersonPhone.objects.bulk_create(to_add)
    if to_update:
        PersonPhone.objects.bulk_update(
            to_update,
            [
                "number",
                "phone_type",
                "phone_type_src_system_id",
                "deleted",
                "verified_at",
                "verified_by",
                "updated_at",
            ],
        )
    for chunk in _chunks(to_delete):
        PersonPhone.objects.filter(pk__in=chunk).update(deleted=True, updated_at=now)
    return SisImportResult(
        people_created=len(new_people),
        people_updated=people_updated,
        people_unchanged=people_unchanged,
        phones_added=len(to_add),
        phones_updated=len(to_update),
        phones_deleted=len(to_delete),
        phones_unchanged=phones_unchanged,
    )


def _permitted_roles_check(
    role_changes: list[tuple[str, Person, list[Role], set[int]]],
    *,
    actor: Any,
    permitted_role_ids: Collection[int],
) -> None:
    """:raises PermissionDenied: naming the rows, when a non-administrator gives someone a
    permitted role."""
    if services.access_grant_allowed(actor):
        return
    granting = [
        (label, [r for r in added if r.pk in permitted_role_ids])
        for label, _, added, _ in role_changes
    ]
    granting = [(label, roles) for label, roles in granting if roles]
    if granting:
        roles = list({r.pk: r for _, granted in granting for r in granted}.values())
        rows = ", ".join(label for label, _ in granting[:10])
        more = f" and {len(granting) - 10} more" if len(granting) > 10 else ""
        raise PermissionDenied(
            f"{services.permitted_role_refusal(roles)} Rows: {rows}{more}. Nothing was imported."
        )


def _permitted_roles_record(
    role_changes: list[tuple[str, Person, list[Role], set[int]]],
    *,
    actor: Any,
    permitted_role_ids: Collection[int],
) -> None:
    removed_ids = {pk for *_, removed in role_changes for pk in removed if pk in permitted_role_ids}
    removed_roles = (
        {r.pk: r for r in Role.objects.filter(pk__in=removed_ids)} if removed_ids else {}
    )
    services.person_access_record(
        actor=actor,
        changes=[
            (
                person,
                services.access_changes_describe(
                    added=added,
                    removed=[removed_roles[pk] for pk in sorted(removed) if pk in removed_roles],
                    permitted_role_ids=permitted_role_ids,
                ),
            )
            for _, person, added, removed in role_changes
        ],
    )


def _phone_apply(phone: PersonPhone, checked: _CheckedPhone, now: Any) -> bool:
    """Copy the feed's number and type onto `phone` (never its SMS status); True if changed."""
    changed = False
    if phone.number != checked.number:
        phone.number = checked.number
        phone.verified_at = None
        phone.verified_by = None
        changed = True
    if phone.phone_type_id != checked.phone_type.pk:
        phone.phone_type = checked.phone_type
        changed = True
    if phone.phone_type_src_system_id != checked.row.phone_type_src_system_id:
        phone.phone_type_src_system_id = checked.row.phone_type_src_system_id
        changed = True
    if phone.deleted:
        phone.deleted = False
        changed = True
    if changed:
        phone.updated_at = now
    return changed


def _csv_people(reader: csv.DictReader[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """The feed's lines grouped by person (see sis_csv_rows).

    :raises SisImportError: when the header lacks a required column.
    :raises csv.Error: when the file cannot be read as CSV.
    """
    columns = [(c or "").strip().lower() for c in (reader.fieldnames or [])]
    missing = [c for c in CSV_REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise SisImportError(
            [
                SisRowError(
                    row="line 1",
                    messages=(
                        f"Missing column(s): {', '.join(missing)}. Expected a header row with "
                        f"{', '.join(CSV_COLUMNS)}.",
                    ),
                )
            ]
        )
    reader.fieldnames = columns
    people: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in reader:
        values = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        if not any(values.values()):
            continue
        line = f"line {reader.line_num}"
        person_values = (
            values.get("first_name", ""),
            values.get("last_name", ""),
            values.get("email", ""),
            tuple(values.get("roles", "").split()),
        )
        src = values.get("person_src_system_id", "")
        key = ("src", src) if src else ("line", line)
        person = people.get(key)
        mismatch = ""
        if person is None:
            person = people[key] = {
                "label": line,
                "values": person_values,
                "phones": [],
                "problems": [],
            }
        elif person["values"] != person_values:
            mismatch = (
                f"This person is listed on {person['label']} with a different name, email or roles."
            )
        if any(values.get(c, "") for c in PHONE_COLUMNS):
            person["phones"].append(
                SisPhoneRow(
                    src_system_id=values.get("phone_src_system_id", ""),
                    number=values.get("number", ""),
                    phone_type=values.get("phone_type", ""),
                    phone_type_src_system_id=values.get("phone_type_src_system_id", ""),
                    label=line,
                    problems=(mismatch,) if mismatch else (),
                )
            )
        elif mismatch:
            person["problems"].append(f"{line}: {mismatch}")
    return people


def sis_csv_rows(text: str) -> list[SisRow]:
    """Read the CSV feed (one line per phone; CSV_COLUMNS) into one SisRow per person.

    Lines are named "line N". A person's lines must agree on name, email and roles; a line whose
    phone columns are all empty stands for a person without phones.

    :raises SisImportError: when the header lacks a required column, the file has no rows or
        cannot be read as CSV (a value over the csv module's field limit, say).
    """
    reader = csv_text.csv_dict_reader(text)
    try:
        people = _csv_people(reader)
    except csv.Error as exc:
        line = f"line {reader.reader.line_num}"
        raise SisImportError(
            [
                SisRowError(
                    row=line, messages=(csv_text.csv_error_message(exc, reader.reader.line_num),)
                )
            ]
        ) from exc
    if not people:
        raise SisImportError([SisRowError(row="line 2", messages=("The file has no data rows.",))])
    return [
        SisRow(
            src_system_id=key[1] if key[0] == "src" else "",
            first_name=p["values"][0],
            last_name=p["values"][1],
            email=p["values"][2],
            roles=p["values"][3],
            phones=tuple(p["phones"]),
            label=p["label"],
            problems=tuple(p["problems"]),
        )
        for key, p in people.items()
    ]
