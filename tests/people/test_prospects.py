"""Prospect upload service (P6): row-level errors, all-or-nothing import, verified phones."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from people import prospects
from people.models import Person, PersonPhone, PhoneType
from tests import factories

HEADER = "src_system_id,first_name,last_name,email,phone,phone_type\n"


@pytest.fixture
def student_role(db: Any) -> Any:
    return factories.RoleFactory(code="student", kind="student")


def test_a_valid_file_creates_people_with_verified_phones_by_the_uploader(
    cell: PhoneType, student_role: Any, admin_user: Any
) -> None:
    text = HEADER + (
        "P-1,Ana,Lopez,ana@example.edu,+1 202 555 0101,cell\n"
        "P-1,Ana,Lopez,,(202) 555-0102,\n"
        ",Ben,Ode,,+44 20 7946 0958,cell\n"
    )
    result = prospects.prospects_import(text=text, actor=admin_user, default_phone_type=cell)
    assert (result.people, result.phones) == (2, 3)
    ana = Person.objects.get(src_system_id="P-1")
    assert ana.is_student
    phones = list(ana.phones.order_by("number"))
    assert [p.number for p in phones] == ["+12025550101", "+12025550102"]
    assert all(p.verified_by == admin_user and p.verified_at is not None for p in phones)
    assert phones[0].verified_at == phones[1].verified_at


def test_one_invalid_row_is_reported_by_line_and_nothing_is_saved(
    cell: PhoneType, student_role: Any, admin_user: Any
) -> None:
    text = HEADER + "P-1,Ana,Lopez,,+12025550101,cell\nP-2,Ben,,not-an-email,12,fax\n"
    check = prospects.prospect_csv_check(text, default_phone_type=cell)
    assert not check.valid
    good, bad = check.rows
    assert good.errors == []
    assert bad.line == 3
    assert "last_name is empty." in bad.errors
    assert "'not-an-email' is not an email address." in bad.errors
    assert any("not a valid phone number" in e for e in bad.errors)
    assert any("Unknown phone type 'fax'" in e for e in bad.errors)
    with pytest.raises(ValidationError):
        prospects.prospects_import(text=text, actor=admin_user, default_phone_type=cell)
    assert not Person.objects.exists()
    assert not PersonPhone.objects.exists()


def test_an_existing_src_system_id_is_refused(
    cell: PhoneType, student_role: Any, admin_user: Any
) -> None:
    factories.PersonFactory(src_system_id="P-9")
    check = prospects.prospect_csv_check(
        HEADER + "P-9,Ana,Lopez,,+12025550101,cell\n", default_phone_type=cell
    )
    assert check.rows[0].errors == ["A person with src_system_id 'P-9' already exists."]


def test_a_missing_required_column_is_a_file_error(cell: PhoneType) -> None:
    check = prospects.prospect_csv_check("first_name,last_name\nA,B\n", default_phone_type=cell)
    assert not check.valid
    assert check.file_errors[0].startswith("Missing column(s): phone.")


def test_an_empty_phone_type_needs_a_configured_default(db: Any) -> None:
    check = prospects.prospect_csv_check(
        HEADER + ",Ana,Lopez,,+12025550101,\n", default_phone_type=None
    )
    assert check.rows[0].errors == [
        "phone_type is empty and no default SMS phone type is configured."
    ]


def test_an_upload_costs_the_same_queries_for_five_and_for_fifty_rows(
    cell: PhoneType, student_role: Any, admin_user: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(start: int, rows: int) -> int:
        text = HEADER + "".join(
            f"Q-{start + i},Ana{i},Lopez,,+1202555{start + i:04d},cell\n" for i in range(rows)
        )
        with CaptureQueriesContext(connection) as ctx:
            result = prospects.prospects_import(
                text=text, actor=admin_user, default_phone_type=cell
            )
        assert (result.people, result.phones) == (rows, rows)
        return len(ctx.captured_queries)

    assert queries(0, 5) == queries(100, 50)
    assert Person.objects.filter(roles=student_role).count() == 55


def test_the_system_phone_type_is_refused_and_not_offered(
    cell: PhoneType, student_role: Any, admin_user: Any
) -> None:
    factories.PhoneTypeFactory(code="SYSTEM")
    check = prospects.prospect_csv_check(
        HEADER + "P-1,Ana,Lopez,,+12025550101,SYSTEM\nP-2,Ben,Ode,,+12025550102,fax\n",
        default_phone_type=cell,
    )

    assert check.rows[0].errors == ["Phone type 'SYSTEM' is for system numbers only."]
    assert check.rows[1].errors == ["Unknown phone type 'fax' (known: cell)."]
