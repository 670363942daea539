"""SIS person import (P7): people and SIS phones upserted, never an SMS status set or reset;
all or nothing with row-by-row errors; the management command and `POST people/import/`."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from people import services, sis
from people.models import (
    SYSTEM_PHONE_TYPE_CODE,
    SYSTEM_PHONE_TYPE_SRC,
    Person,
    PersonPhone,
    PhoneStatusChange,
    PhoneType,
    Role,
    RoleKind,
    SmsStatus,
    StatusCause,
)
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

CSV_HEADER = (
    "person_src_system_id,first_name,last_name,email,roles,phone_src_system_id,number,"
    "phone_type,phone_type_src_system_id\n"
)


@pytest.fixture
def student_role(db: Any) -> Role:
    return factories.RoleFactory(code="student", kind=RoleKind.STUDENT)


@pytest.fixture
def home(db: Any) -> PhoneType:
    return factories.PhoneTypeFactory(code="home", name="Home")


@pytest.fixture
def ana(student_role: Role, cell: PhoneType) -> Person:
    """A student already imported from the SIS, with one SIS cell phone."""
    person = factories.PersonFactory(
        src_system_id="S-1", first_name="Ana", last_name="Lopez", email="ana@example.edu"
    )
    person.roles.set([student_role])
    factories.PhoneFactory(
        person=person,
        number="+12025550101",
        phone_type=cell,
        src_system_id="PH-1",
        phone_type_src_system_id="SIS.CELL",
    )
    return person


def phone(src: str, number: str, phone_type: str = "cell", type_src: str = "SIS.CELL") -> Any:
    return sis.SisPhoneRow(
        src_system_id=src, number=number, phone_type=phone_type, phone_type_src_system_id=type_src
    )


def ana_row(*phones: sis.SisPhoneRow, **changes: Any) -> sis.SisRow:
    values: dict[str, Any] = {
        "src_system_id": "S-1",
        "first_name": "Ana",
        "last_name": "Lopez",
        "email": "ana@example.edu",
        "roles": ("student",),
        "phones": phones,
    }
    values.update(changes)
    return sis.SisRow(**values)


def set_status(phone_obj: PersonPhone, status: str) -> None:
    services.phone_status_set(phone=phone_obj, status=status, cause=StatusCause.MANUAL)


# The service -----------------------------------------------------------------------------------


def test_a_new_person_arrives_with_roles_and_phones_in_sms_default(
    student_role: Role, cell: PhoneType
) -> None:
    result = sis.sis_people_import(
        rows=[
            sis.SisRow(
                src_system_id="S-9",
                first_name="Ben",
                last_name="Ode",
                roles=("student",),
                phones=(phone("PH-9", "(202) 555-0199"),),
            )
        ]
    )
    assert (result.people_created, result.phones_added) == (1, 1)
    ben = Person.objects.get(src_system_id="S-9")
    assert ben.is_student
    new = ben.phones.get()
    assert (new.number, new.sms_status, new.src_system_id) == ("+12025550199", "default", "PH-9")
    assert new.phone_type_src_system_id == "SIS.CELL"
    assert not PhoneStatusChange.objects.exists()


@pytest.mark.parametrize("status", [SmsStatus.ENABLED, SmsStatus.DISABLED])
def test_an_import_that_changes_a_phones_number_and_type_keeps_its_sms_status(
    ana: Person, home: PhoneType, status: str
) -> None:
    existing = ana.phones.get()
    set_status(existing, status)
    changes_before = PhoneStatusChange.objects.count()

    result = sis.sis_people_import(rows=[ana_row(phone("PH-1", "+1 202 555 0177", "home", "H"))])

    existing.refresh_from_db()
    assert result.phones_updated == 1
    assert (existing.number, existing.phone_type, existing.phone_type_src_system_id) == (
        "+12025550177",
        home,
        "H",
    )
    assert existing.sms_status == status
    assert PhoneStatusChange.objects.count() == changes_before


def test_a_new_number_on_a_known_phone_loses_its_verified_mark(
    ana: Person, admin_user: Any
) -> None:
    existing = ana.phones.get()
    services.phone_update(phone=existing, actor=admin_user, verified=True)
    sis.sis_people_import(rows=[ana_row(phone("PH-1", "+12025550177"))])
    existing.refresh_from_db()
    assert existing.verified_at is None and existing.verified_by is None


def test_importing_the_same_feed_again_changes_nothing(ana: Person, home: PhoneType) -> None:
    feed = [
        ana_row(phone("PH-1", "+12025550101"), phone("PH-2", "+12025550102", "home", "H")),
        sis.SisRow(
            src_system_id="S-2",
            first_name="Cy",
            last_name="Dee",
            roles=("student",),
            phones=(phone("PH-3", "+12025550103"),),
        ),
    ]
    sis.sis_people_import(rows=feed)
    for p in PersonPhone.objects.all():
        set_status(p, SmsStatus.ENABLED)
    snapshot = list(PersonPhone.objects.order_by("id").values())
    people_snapshot = list(Person.objects.order_by("id").values())
    changes = PhoneStatusChange.objects.count()

    again = sis.sis_people_import(rows=feed)

    assert again == sis.SisImportResult(people_unchanged=2, phones_unchanged=3)
    assert list(PersonPhone.objects.order_by("id").values()) == snapshot
    assert list(Person.objects.order_by("id").values()) == people_snapshot
    assert PhoneStatusChange.objects.count() == changes


def test_a_phone_missing_from_the_feed_is_soft_deleted_with_its_status_kept(ana: Person) -> None:
    gone = ana.phones.get()
    set_status(gone, SmsStatus.DISABLED)
    changes = PhoneStatusChange.objects.count()

    result = sis.sis_people_import(rows=[ana_row(phone("PH-2", "+12025550102"))])

    gone.refresh_from_db()
    assert result.phones_deleted == 1 and result.phones_added == 1
    assert gone.deleted and gone.sms_status == SmsStatus.DISABLED
    assert PhoneStatusChange.objects.count() == changes


def test_a_soft_deleted_phone_back_in_the_feed_is_restored_with_its_status(ana: Person) -> None:
    existing = ana.phones.get()
    set_status(existing, SmsStatus.ENABLED)
    sis.sis_people_import(rows=[ana_row()])
    existing.refresh_from_db()
    assert existing.deleted

    result = sis.sis_people_import(rows=[ana_row(phone("PH-1", "+12025550101"))])

    existing.refresh_from_db()
    assert result.phones_updated == 1 and result.phones_added == 0
    assert not existing.deleted and existing.sms_status == SmsStatus.ENABLED


def test_system_numbers_and_hand_added_phones_are_untouched(ana: Person, cell: PhoneType) -> None:
    system_type = PhoneType.objects.get(code=SYSTEM_PHONE_TYPE_CODE)
    system = factories.PhoneFactory(
        person=ana,
        number="+12015550001",
        phone_type=system_type,
        src_system_id="12015550001AVISO.SMS",
        phone_type_src_system_id=SYSTEM_PHONE_TYPE_SRC,
    )
    by_hand = services.phone_create(
        person=ana, number="+12025550150", phone_type=cell, sms_status=SmsStatus.ENABLED
    )
    before = {p.pk: p for p in PersonPhone.objects.filter(pk__in=[system.pk, by_hand.pk])}

    result = sis.sis_people_import(rows=[ana_row()])

    assert result.phones_deleted == 1  # only the SIS phone PH-1
    for p in PersonPhone.objects.filter(pk__in=[system.pk, by_hand.pk]):
        old = before[p.pk]
        assert (p.number, p.deleted, p.sms_status, p.updated_at) == (
            old.number,
            old.deleted,
            old.sms_status,
            old.updated_at,
        )


def test_people_not_in_the_feed_and_their_phones_are_left_alone(ana: Person) -> None:
    sis.sis_people_import(
        rows=[sis.SisRow(src_system_id="S-2", first_name="Cy", last_name="Dee", roles=("student",))]
    )
    assert not ana.phones.get().deleted
    assert Person.objects.get(pk=ana.pk).first_name == "Ana"


def test_a_known_person_gets_the_feeds_name_email_and_roles(ana: Person) -> None:
    factories.RoleFactory(code="advisor", kind=RoleKind.STAFF)
    result = sis.sis_people_import(
        rows=[
            ana_row(
                phone("PH-1", "+12025550101"),
                first_name="Anna",
                email="anna@example.edu",
                roles=("advisor",),
            )
        ]
    )
    ana.refresh_from_db()
    assert result.people_updated == 1 and result.phones_unchanged == 1
    assert (ana.first_name, ana.email) == ("Anna", "anna@example.edu")
    assert [r.code for r in ana.roles.all()] == ["advisor"]
    assert not ana.is_student


def test_one_bad_row_saves_nothing_and_the_errors_name_the_rows(
    ana: Person, student_role: Role
) -> None:
    feed = [
        ana_row(phone("PH-1", "+12025550177")),
        sis.SisRow(
            src_system_id="S-2",
            first_name="",
            last_name="Dee",
            email="not-an-email",
            roles=("student", "wizard"),
            phones=(phone("PH-5", "12"), phone("PH-6", "+12025550106", "fax")),
        ),
    ]
    with pytest.raises(sis.SisImportError) as caught:
        sis.sis_people_import(rows=feed)

    errors = {e.row: e.messages for e in caught.value.row_errors}
    assert set(errors) == {"people[1]", "people[1].phones[0]", "people[1].phones[1]"}
    assert "first_name is empty." in errors["people[1]"]
    assert "'not-an-email' is not an email address." in errors["people[1]"]
    assert any(m.startswith("Unknown role code(s): wizard") for m in errors["people[1]"])
    assert "not a valid phone number" in errors["people[1].phones[0]"][0]
    assert errors["people[1].phones[1]"][0].startswith("Unknown phone type 'fax'")
    assert caught.value.messages == ["3 row(s) have errors; nothing was imported."]
    assert ana.phones.get().number == "+12025550101"
    assert not Person.objects.filter(src_system_id="S-2").exists()


def test_the_feed_cannot_add_or_change_a_system_number(ana: Person) -> None:
    feed = [
        ana_row(
            phone("X1AVISO.SMS", "+12015550002"),
            phone("PH-7", "+12015550003", "cell", SYSTEM_PHONE_TYPE_SRC),
            phone("PH-8", "+12015550004", SYSTEM_PHONE_TYPE_CODE),
        )
    ]
    errors = sis.sis_rows_check(feed)
    assert [e.row for e in errors] == [
        "people[0].phones[0]",
        "people[0].phones[1]",
        "people[0].phones[2]",
    ]


def test_a_person_or_phone_listed_twice_is_a_row_error(ana: Person) -> None:
    errors = sis.sis_rows_check(
        [ana_row(phone("PH-1", "+12025550101"), phone("PH-1", "+12025550102")), ana_row()]
    )
    assert [(e.row, e.messages[0]) for e in errors] == [
        (
            "people[0].phones[1]",
            "phone src_system_id 'PH-1' is already listed for this person at people[0].phones[0].",
        ),
        ("people[1]", "src_system_id 'S-1' is already listed at people[0]."),
    ]


def test_an_import_costs_the_same_number_of_queries_for_5_or_50_people(
    student_role: Role, cell: PhoneType
) -> None:
    def feed(prefix: str, size: int) -> list[sis.SisRow]:
        return [
            sis.SisRow(
                src_system_id=f"{prefix}{i}",
                first_name="A",
                last_name=f"N{i}",
                roles=("student",),
                phones=(phone(f"{prefix}P{i}", f"+1202555{i:04d}"),),
            )
            for i in range(size)
        ]

    counts = []
    for prefix, size in (("A", 5), ("B", 50)):
        sis.sis_people_import(rows=feed(prefix, size))  # create
        with CaptureQueriesContext(connection) as queries:
            moved = sis.sis_people_import(
                rows=[  # every phone gets a new number
                    replace(row, phones=(phone(f"{prefix}P{i}", f"+1202556{i:04d}"),))
                    for i, row in enumerate(feed(prefix, size))
                ]
            )
        assert moved.phones_updated == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


# The management command ------------------------------------------------------------------------


def test_the_command_imports_a_csv_and_prints_a_summary(
    ana: Person, tmp_path: Path, capsys: Any
) -> None:
    ana.phones.update(sms_status=SmsStatus.ENABLED)
    path = tmp_path / "feed.csv"
    path.write_text(
        CSV_HEADER + "S-1,Ana,Lopez,ana@example.edu,student,PH-1,(202) 555-0111,cell,SIS.CELL\n"
        "S-1,Ana,Lopez,ana@example.edu,student,PH-2,+12025550112,cell,SIS.CELL\n"
        "S-2,Cy,Dee,,student,,,,\n"
    )
    call_command("import_sis_people", str(path))
    out = capsys.readouterr().out
    assert "People: 1 created, 0 updated, 1 unchanged." in out
    assert "Phones: 1 added, 1 updated, 0 soft-deleted, 0 unchanged." in out
    assert ana.phones.get(src_system_id="PH-1").sms_status == SmsStatus.ENABLED
    assert not Person.objects.get(src_system_id="S-2").phones.exists()


def test_the_command_reports_bad_lines_and_exits_with_code_1(
    ana: Person, tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "feed.csv"
    path.write_text(
        CSV_HEADER + "S-1,Ana,Lopez,ana@example.edu,student,PH-1,+12025550177,cell,\n"
        "S-1,Anna,Lopez,ana@example.edu,student,PH-2,12,cell,\n"
        "S-3,Eve,,,dean,,,,\n"
    )
    with pytest.raises(CommandError) as caught:
        call_command("import_sis_people", str(path))
    assert caught.value.returncode == 1
    assert str(caught.value) == "2 row(s) have errors; nothing was imported."
    err = capsys.readouterr().err.splitlines()
    assert "line 3: This person is listed on line 2 with a different name, email or roles." in err
    assert any(e.startswith("line 3: '12' is not a valid phone number") for e in err)
    assert "line 4: last_name is empty." in err
    assert any(e.startswith("line 4: Unknown role code(s): dean") for e in err)
    assert ana.phones.get().number == "+12025550101"


def test_the_command_names_missing_columns(db: Any, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "feed.csv"
    path.write_text("person_src_system_id,first_name\nS-1,Ana\n")
    with pytest.raises(CommandError):
        call_command("import_sis_people", str(path))
    assert "Missing column(s): last_name, roles, phone_src_system_id" in capsys.readouterr().err


# The endpoint ----------------------------------------------------------------------------------


@pytest.fixture
def integration_api(db: Any) -> APIClient:
    user = factories.UserFactory(username="sis-sync")
    user.groups.add(Group.objects.get_or_create(name="integrations")[0])
    return client_for(user)


def payload(**changes: Any) -> dict[str, Any]:
    person: dict[str, Any] = {
        "src_system_id": "S-1",
        "first_name": "Ana",
        "last_name": "Lopez",
        "email": "ana@example.edu",
        "roles": ["student"],
        "phones": [
            {
                "src_system_id": "PH-1",
                "number": "+1 202 555 0177",
                "phone_type": "cell",
                "phone_type_src_system_id": "SIS.CELL",
            }
        ],
    }
    person.update(changes)
    return {"people": [person]}


def test_an_integration_imports_people_and_gets_the_summary(
    ana: Person, integration_api: APIClient
) -> None:
    ana.phones.update(sms_status=SmsStatus.DISABLED)
    response = integration_api.post("/api/v1/people/import/", payload(), format="json")
    assert response.status_code == 200
    assert response.json() == {
        "people_created": 0,
        "people_updated": 0,
        "people_unchanged": 1,
        "phones_added": 0,
        "phones_updated": 1,
        "phones_deleted": 0,
        "phones_unchanged": 0,
    }
    assert ana.phones.get().sms_status == SmsStatus.DISABLED


def test_an_administrator_may_import(
    student_role: Role, cell: PhoneType, admin_api: APIClient
) -> None:
    response = admin_api.post("/api/v1/people/import/", payload(), format="json")
    assert response.status_code == 200
    assert response.json()["people_created"] == 1


def test_a_bad_row_is_a_400_naming_the_row_and_nothing_is_saved(
    ana: Person, integration_api: APIClient
) -> None:
    body = payload()
    body["people"].append({"src_system_id": "S-2", "first_name": "Cy", "roles": ["student"]})
    response = integration_api.post("/api/v1/people/import/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "1 row(s) have errors; nothing was imported.",
        "errors": [{"row": "people[1]", "messages": ["last_name is empty."]}],
    }
    assert ana.phones.get().number == "+12025550101"


def test_a_malformed_body_is_a_400(integration_api: APIClient) -> None:
    response = integration_api.post(
        "/api/v1/people/import/", {"people": [{"roles": "student", "phones": 3}]}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["people"]["0"]) == {"roles", "phones"}
    assert integration_api.post("/api/v1/people/import/", {}, format="json").status_code == 400


def test_anonymous_import_is_401(anon_api: APIClient) -> None:
    assert anon_api.post("/api/v1/people/import/", payload(), format="json").status_code == 401


def test_staff_and_students_may_not_import(advisor_api: APIClient, student_api: APIClient) -> None:
    for api in (advisor_api, student_api):
        response = api.post("/api/v1/people/import/", payload(), format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == "Only administrators and integrations may do this."
    assert not Person.objects.filter(src_system_id="S-1").exists()


# Concurrency (PostgreSQL) ----------------------------------------------------------------------

THREADS = 8


def race(work: Any) -> list[Any]:
    """Run work(i) in THREADS threads released together, each with its own connection; an
    exception is returned as the thread's result."""
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # compared by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_imports_of_one_person_add_a_new_phone_once(ana: Person) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL: run with DATABASE_URL=postgres://...")
    feed = [ana_row(phone("PH-1", "+12025550101"), phone("PH-2", "+12025550102"))]
    results = race(lambda i: sis.sis_people_import(rows=feed))
    assert all(isinstance(r, sis.SisImportResult) for r in results), results
    assert sorted(r.phones_added for r in results) == [0] * (THREADS - 1) + [1]
    assert ana.phones.filter(src_system_id="PH-2").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_imports_of_one_new_person_create_it_once(
    student_role: Role, cell: PhoneType
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL: run with DATABASE_URL=postgres://...")
    feed = [
        sis.SisRow(
            src_system_id="S-7",
            first_name="Gus",
            last_name="Novak",
            roles=("student",),
            phones=(phone("PH-7", "+12025550107"),),
        )
    ]
    results = race(lambda i: sis.sis_people_import(rows=feed))
    created = [r for r in results if isinstance(r, sis.SisImportResult) and r.people_created]
    refused = [r for r in results if not isinstance(r, sis.SisImportResult)]
    assert len(created) == 1
    assert all("Run the import again." in str(r) for r in refused), refused
    assert Person.objects.filter(src_system_id="S-7").count() == 1
    assert PersonPhone.objects.filter(src_system_id="PH-7").count() == 1
