"""Uploaded CSV files that the csv module cannot read as it is called by default never answer
500: CR-only line endings (spreadsheets' "CSV (Macintosh)") are read like any other; a value
over the csv module's field limit (131,072 characters, usually a quote never closed) is a file
error naming the line; values longer than their column are row errors. Nothing is half-saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from people import prospects
from people.models import Person, PersonPhone
from tests import factories

pytestmark = pytest.mark.django_db

HUGE = "x" * 140_000
CR_ONLY = (
    "src_system_id,first_name,last_name,phone\rP-1,Ana,Lopez,+12025550101\r"
    "P-2,Ben,Ode,+12025550102\r"
)


@pytest.fixture
def uploader(admin_user: Any, config: Any) -> Client:
    factories.RoleFactory(code="student", kind="student")
    client = Client()
    client.force_login(admin_user)
    return client


def _upload(client: Client, text: str) -> Any:
    file = SimpleUploadedFile("prospects.csv", text.encode())
    return client.post(reverse("prospect-upload"), {"file": file})


def test_a_prospect_file_with_cr_only_line_endings_is_previewed_and_imported(
    uploader: Client,
) -> None:
    preview = _upload(uploader, CR_ONLY)
    assert preview.status_code == 200
    check = preview.context["check"]
    assert check.valid
    assert [(r.line, r.first_name) for r in check.rows] == [(2, "Ana"), (3, "Ben")]
    imported = uploader.post(reverse("prospect-upload"), {"csv_text": CR_ONLY})
    assert imported.status_code == 302
    assert sorted(Person.objects.values_list("src_system_id", flat=True)) == ["P-1", "P-2"]


def test_a_value_over_the_csv_field_limit_is_a_file_error_naming_the_line(
    uploader: Client,
) -> None:
    text = f"first_name,last_name,phone\nAna,Lopez,+12025550101\nBen,{HUGE},+12025550102\n"
    response = _upload(uploader, text)
    assert response.status_code == 200
    check = response.context["check"]
    assert not check.valid
    assert check.file_errors == [
        "The file cannot be read past line 3: a value there is longer than 131,072 characters. "
        'Look for a double quote (") that opens a value and is never closed: it swallows the '
        "rest of the file into that value."
    ]
    assert "The file cannot be read past line 3" in response.content.decode()
    confirmed = uploader.post(reverse("prospect-upload"), {"csv_text": text})
    assert confirmed.status_code == 200
    assert "nothing was imported" in confirmed.content.decode()
    assert not Person.objects.exists()
    assert not PersonPhone.objects.exists()


def test_an_unclosed_quote_is_reported_not_a_500(uploader: Client) -> None:
    text = 'first_name,last_name,phone\nAna,"Lopez,+12025550101\n' + ("Ben,Ode,1\n" * 14_000)
    response = _upload(uploader, text)
    assert response.status_code == 200
    assert "Look for a double quote" in response.context["check"].file_errors[0]


def test_values_longer_than_their_column_are_row_errors(cell: Any, admin_user: Any) -> None:
    factories.RoleFactory(code="student", kind="student")
    text = f"src_system_id,first_name,last_name,phone\n{'S' * 129},{'A' * 129},Lopez,+12025550101\n"
    check = prospects.prospect_csv_check(text, default_phone_type=cell)
    assert check.rows[0].errors == [
        "src_system_id is longer than 128 characters.",
        "first_name is longer than 128 characters.",
    ]


# The SIS feed (manage.py import_sis_people) ------------------------------------------------

SIS_HEADER = (
    "person_src_system_id,first_name,last_name,email,roles,phone_src_system_id,number,phone_type"
)


def test_an_sis_feed_with_cr_only_line_endings_is_imported(
    cell: Any, tmp_path: Path, capsys: Any
) -> None:
    factories.RoleFactory(code="student", kind="student")
    path = tmp_path / "feed.csv"
    path.write_bytes(f"{SIS_HEADER}\rS-1,Ana,Lopez,,student,PH-1,+12025550101,cell\r".encode())
    call_command("import_sis_people", str(path))
    assert Person.objects.get(src_system_id="S-1").phones.get().number == "+12025550101"


def test_an_sis_feed_with_a_value_over_the_field_limit_is_refused_by_line(
    cell: Any, tmp_path: Path, capsys: Any
) -> None:
    factories.RoleFactory(code="student", kind="student")
    path = tmp_path / "feed.csv"
    path.write_text(
        f"{SIS_HEADER}\nS-1,Ana,Lopez,,student,PH-1,+12025550101,cell\n"
        f"S-2,{HUGE},Ode,,student,PH-2,+12025550102,cell\n"
    )
    with pytest.raises(CommandError):
        call_command("import_sis_people", str(path))
    assert "line 3: The file cannot be read past line 3" in capsys.readouterr().err
    assert not Person.objects.exists()
