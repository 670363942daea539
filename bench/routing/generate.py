"""Generate the routing benchmark's cohort: N students with 1-4 phones each, loaded with COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_routing_bench \
        .venv/bin/python bench/routing/generate.py --students 100000

Only for the benchmark's own database: it empties the people tables before loading.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import django_setup

SRC_PREFIX = "BENCH-"
T0 = datetime(2022, 1, 1, tzinfo=UTC)


def _copy(cursor: object, table: str, columns: list[str], rows: list[str]) -> None:
    buffer = io.StringIO("".join(rows))
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT text)"
    cursor.copy_expert(statement, buffer)  # type: ignore[attr-defined]


def cohort_present(students: int) -> bool:
    from people.models import Person

    return (
        Person.objects.filter(src_system_id__startswith=SRC_PREFIX).count() == students
        and Person.objects.count() == students
    )


def cohort_generate(students: int, seed: int = 7) -> dict[str, float]:
    """Empty the people tables and load `students` students and their phones; returns counts."""
    from django.db import connection, transaction

    from people.models import PhoneType, Role, RoleKind
    from sms_admin import services as sms_admin_services

    rng = random.Random(seed)
    started = time.perf_counter()
    with transaction.atomic():
        role, _ = Role.objects.get_or_create(
            code="student", defaults={"name": "Student", "kind": RoleKind.STUDENT}
        )
        types = {
            code: PhoneType.objects.get_or_create(code=code, defaults={"name": code.title()})[0].pk
            for code in ("cell", "home", "work")
        }
        sms_admin_services.configuration_update(
            actor=None, default_sms_phone_type=PhoneType.objects.get(pk=types["cell"])
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE people_personphone, people_person_roles, people_person "
                "RESTART IDENTITY CASCADE"
            )
            people: list[str] = []
            holds: list[str] = []
            phones: list[str] = []
            phone_id = 0
            for person_id in range(1, students + 1):
                email = "" if rng.random() < 0.03 else f"student{person_id}@example.edu"
                created = (T0 + timedelta(minutes=person_id)).isoformat()
                people.append(
                    f"{person_id}\t{SRC_PREFIX}{person_id}\tStudent\t{person_id}\t{email}\t{created}\n"
                )
                holds.append(f"{person_id}\t{role.pk}\n")
                for _ in range(rng.randint(1, 4)):
                    phone_id += 1
                    status = rng.choices(["default", "enabled", "disabled"], [75, 15, 10])[0]
                    type_code = rng.choices(["cell", "home", "work"], [60, 25, 15])[0]
                    verified = (
                        (T0 + timedelta(days=rng.randint(0, 1000))).isoformat()
                        if rng.random() < 0.5
                        else "\\N"
                    )
                    deleted = "t" if rng.random() < 0.08 else "f"
                    phone_created = (T0 + timedelta(seconds=phone_id)).isoformat()
                    phones.append(
                        f"{phone_id}\t{person_id}\t+1{2020000000 + phone_id}\t{types[type_code]}\t"
                        f"{status}\t{verified}\t{deleted}\tSIS.PHONE.{phone_id}\t{type_code}\t"
                        f"{phone_created}\t{phone_created}\n"
                    )
            _copy(
                cursor,
                "people_person",
                ["id", "src_system_id", "first_name", "last_name", "email", "created_at"],
                people,
            )
            _copy(cursor, "people_person_roles", ["person_id", "role_id"], holds)
            _copy(
                cursor,
                "people_personphone",
                [
                    "id",
                    "person_id",
                    "number",
                    "phone_type_id",
                    "sms_status",
                    "verified_at",
                    "deleted",
                    "src_system_id",
                    "phone_type_src_system_id",
                    "created_at",
                    "updated_at",
                ],
                phones,
            )
            for table in ("people_person", "people_personphone"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_person, people_person_roles, people_personphone")
    return {
        "students": students,
        "phones": phone_id,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    django_setup()
    print(cohort_generate(args.students, args.seed))


if __name__ == "__main__":
    main()
