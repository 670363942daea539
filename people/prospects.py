"""Prospect upload (P6): a CSV of people and phones, checked row by row, then imported in one
transaction with every uploaded phone marked verified by the uploader at upload time."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone

from people import csv_text, phone_numbers
from people.models import SYSTEM_PHONE_TYPE_CODE, Person, PersonPhone, PhoneType, Role, RoleKind

REQUIRED_COLUMNS = ("first_name", "last_name", "phone")
KNOWN_COLUMNS = ("src_system_id", "first_name", "last_name", "email", "phone", "phone_type")
MAX_ROWS = 5000


@dataclass
class ProspectRow:
    line: int
    src_system_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    phone_type_code: str
    number: str = ""
    phone_type: PhoneType | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class ProspectCheck:
    rows: list[ProspectRow]
    file_errors: list[str]

    @property
    def valid(self) -> bool:
        return not self.file_errors and bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def error_count(self) -> int:
        return len(self.file_errors) + sum(1 for r in self.rows if r.errors)

    @property
    def people_count(self) -> int:
        return len({_person_key(r) for r in self.rows})


@dataclass(frozen=True)
class ProspectImportResult:
    people: int
    phones: int


def _person_key(row: ProspectRow) -> tuple[str, ...]:
    if row.src_system_id:
        return ("src", row.src_system_id)
    return ("line", str(row.line))


def prospect_csv_check(text: str, *, default_phone_type: PhoneType | None) -> ProspectCheck:
    """Read and check every row; nothing is written. A constant number of queries."""
    reader = csv_text.csv_dict_reader(text)
    try:
        columns = [c.strip().lower() for c in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            return ProspectCheck(
                rows=[],
                file_errors=[
                    f"Missing column(s): {', '.join(missing)}. Expected a header row with "
                    f"{', '.join(KNOWN_COLUMNS)}."
                ],
            )
        reader.fieldnames = columns
        rows: list[ProspectRow] = []
        for raw in reader:
            if len(rows) >= MAX_ROWS:
                return ProspectCheck(
                    rows=rows, file_errors=[f"Too many rows: upload at most {MAX_ROWS} at a time."]
                )
            values = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
            if not any(values.values()):
                continue
            rows.append(
                ProspectRow(
                    line=reader.line_num,
                    src_system_id=values.get("src_system_id", ""),
                    first_name=values.get("first_name", ""),
                    last_name=values.get("last_name", ""),
                    email=values.get("email", ""),
                    phone=values.get("phone", ""),
                    phone_type_code=values.get("phone_type", ""),
                )
            )
    except csv.Error as exc:
        # Nothing from a file that cannot be read to its end is imported.
        return ProspectCheck(
            rows=[], file_errors=[csv_text.csv_error_message(exc, reader.reader.line_num)]
        )
    if not rows:
        return ProspectCheck(rows=[], file_errors=["The file has no data rows."])

    types = {t.code.lower(): t for t in PhoneType.objects.all()}
    src_ids = {r.src_system_id for r in rows if r.src_system_id}
    taken = {
        src
        for src in Person.objects.filter(src_system_id__in=src_ids).values_list(
            "src_system_id", flat=True
        )
        if src
    }
    first_of: dict[str, ProspectRow] = {}
    numbers_of: dict[tuple[str, ...], set[str]] = {}
    for row in rows:
        _check_row(row, types, default_phone_type, taken, first_of, numbers_of)
    return ProspectCheck(rows=rows, file_errors=[])


def _max_length(name: str) -> int:
    column = Person._meta.get_field(name)
    assert isinstance(column, models.CharField)
    return column.max_length or 0


def _check_row(
    row: ProspectRow,
    types: dict[str, PhoneType],
    default_phone_type: PhoneType | None,
    taken: set[str],
    first_of: dict[str, ProspectRow],
    numbers_of: dict[tuple[str, ...], set[str]],
) -> None:
    for name, value in (
        ("src_system_id", row.src_system_id),
        ("first_name", row.first_name),
        ("last_name", row.last_name),
        ("email", row.email),
    ):
        limit = _max_length(name)
        if len(value) > limit:
            row.errors.append(f"{name} is longer than {limit} characters.")
    if not row.first_name:
        row.errors.append("first_name is empty.")
    if not row.last_name:
        row.errors.append("last_name is empty.")
    if row.email:
        try:
            validate_email(row.email)
        except ValidationError:
            row.errors.append(f"'{row.email}' is not an email address.")
    try:
        row.number = phone_numbers.phone_number_normalize(row.phone)
    except ValidationError as exc:
        row.errors.append(exc.messages[0])
    if row.phone_type_code.lower() == SYSTEM_PHONE_TYPE_CODE.lower():
        # The System type marks staff members' sender numbers, never a person's own phone.
        row.errors.append(f"Phone type '{SYSTEM_PHONE_TYPE_CODE}' is for system numbers only.")
    elif row.phone_type_code:
        row.phone_type = types.get(row.phone_type_code.lower())
        if row.phone_type is None:
            known = (
                ", ".join(
                    sorted(t.code for t in types.values() if t.code != SYSTEM_PHONE_TYPE_CODE)
                )
                or "none defined"
            )
            row.errors.append(f"Unknown phone type '{row.phone_type_code}' (known: {known}).")
    elif default_phone_type is not None:
        row.phone_type = default_phone_type
    else:
        row.errors.append("phone_type is empty and no default SMS phone type is configured.")
    if row.src_system_id:
        if row.src_system_id in taken:
            row.errors.append(f"A person with src_system_id '{row.src_system_id}' already exists.")
        first = first_of.setdefault(row.src_system_id, row)
        if first is not row and (first.first_name, first.last_name) != (
            row.first_name,
            row.last_name,
        ):
            row.errors.append(
                f"src_system_id '{row.src_system_id}' is used on line {first.line} for "
                f"{first.first_name} {first.last_name}."
            )
    if row.number:
        seen = numbers_of.setdefault(_person_key(row), set())
        if row.number in seen:
            row.errors.append(f"{row.number} is listed twice for this person.")
        seen.add(row.number)


def _student_role() -> Role:
    role = Role.objects.filter(kind=RoleKind.STUDENT).order_by("id").first()
    if role is None:
        raise ValidationError("No student role exists; create one before uploading prospects.")
    return role


def prospects_import(
    *, text: str, actor: Any, default_phone_type: PhoneType | None
) -> ProspectImportResult:
    """Create the people and phones of a checked CSV, all or nothing.

    Prospects get the (first) student role; their phones are verified by `actor` now (P6).

    :raises ValidationError: when any row is invalid; nothing is saved then.
    """
    with transaction.atomic():
        check = prospect_csv_check(text, default_phone_type=default_phone_type)
        if not check.valid:
            raise ValidationError(
                f"{check.error_count} row(s) have errors; nothing was imported.", code="invalid"
            )
        role = _student_role()
        now = timezone.now()
        verified_by = actor if actor is not None and actor.is_authenticated else None
        # Three inserts in all, whatever the file's size: the people, their role, their phones.
        people: dict[tuple[str, ...], Person] = {}
        for row in check.rows:
            people.setdefault(
                _person_key(row),
                Person(
                    first_name=row.first_name,
                    last_name=row.last_name,
                    email=row.email,
                    src_system_id=row.src_system_id or None,
                ),
            )
        Person.objects.bulk_create(people.values())
        Person.roles.through.objects.bulk_create(
            [Person.roles.through(person_id=p.pk, role_id=role.pk) for p in people.values()]
        )
        # Prospects' phones start SMS Default: no status change to record (T10).
        phones = PersonPhone.objects.bulk_create(
            [
                PersonPhone(
                    person=people[_person_key(row)],
                    number=row.number,
                    phone_type=row.phone_type,
                    verified_at=now,
                    verified_by=verified_by,
                )
                for row in check.rows
            ]
        )
    return ProspectImportResult(people=len(people), phones=len(phones))
