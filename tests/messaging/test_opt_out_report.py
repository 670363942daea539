"""The opt-out report (A4) and its CSV: every change into or out of SMS Disabled with its cause
in words, the person, the phone and the time; date and change filters; pages of 50; the CSV
streamed; a fixed number of queries."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messaging import opt_out_report
from people import services as people_services
from people.models import PersonPhone, PhoneStatusChange, SmsStatus, StatusCause
from tests import factories

PAGE = "insight-opt-outs"
CSV = "insight-opt-outs-csv"
NOW = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(settings: Any) -> Any:
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(NOW, tick=False):
        yield


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change(
    phone: PersonPhone, status: str, cause: str, at: datetime = NOW, **fields: Any
) -> PhoneStatusChange:
    with time_machine.travel(at, tick=False):
        assert people_services.phone_status_set(phone=phone, status=status, cause=cause, **fields)
    return PhoneStatusChange.objects.filter(phone=phone).latest("id")


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def phones(db: Any, cell: Any) -> dict[str, PersonPhone]:
    return {
        name: factories.PhoneFactory(
            person=factories.student(first_name=name.title(), last_name="Student"),
            number=number,
            phone_type=cell,
        )
        for name, number in (
            ("sam", "+12025550101"),
            ("tia", "+12025550102"),
            ("uma", "+12025550103"),
            ("vic", "+12025550104"),
        )
    }


@pytest.fixture
def editor(db: Any) -> Any:
    user = factories.UserFactory(username="dana", is_staff=True)
    factories.staff(first_name="Dana", last_name="Dean", user=user)
    return user


def test_each_change_to_or_from_sms_disabled_is_listed_with_its_cause_in_words(
    phones: dict[str, PersonPhone], editor: Any
) -> None:
    sam, tia, uma, vic = (phones[k] for k in ("sam", "tia", "uma", "vic"))
    change(sam, SmsStatus.DISABLED, StatusCause.OPT_OUT, at=datetime(2026, 3, 1, 15, tzinfo=UTC))
    change(tia, SmsStatus.DISABLED, StatusCause.ERROR_CODE, error_code=21610)
    change(uma, SmsStatus.DISABLED, StatusCause.MANUAL, actor=editor)
    change(uma, SmsStatus.ENABLED, StatusCause.MANUAL, actor=editor, reason="Asked in person")
    change(sam, SmsStatus.ENABLED, StatusCause.OPT_IN)
    # Not about SMS Disabled: not listed.
    change(vic, SmsStatus.ENABLED, StatusCause.STUDENT_INITIATED)
    change(vic, SmsStatus.DEFAULT, StatusCause.MANUAL, actor=editor)

    rows = opt_out_report.opt_out_rows(
        list(opt_out_report.opt_out_changes(opt_out_report.OptOutFilter()))
    )

    assert [(r.change.phone.number, r.kind, r.cause_text) for r in rows] == [
        ("+12025550101", "lifted", "The person texted an opt-in keyword (START)"),
        ("+12025550103", "lifted", "By hand, by Dana Dean"),
        ("+12025550103", "disabled", "By hand, by Dana Dean"),
        ("+12025550102", "disabled", "Twilio error code 21610: Recipient unsubscribed (STOP)"),
        ("+12025550101", "disabled", "The person texted an opt-out keyword (STOP)"),
    ]
    assert rows[1].change.reason == "Asked in person"


def test_an_error_code_missing_from_the_policy_table_is_still_named(
    phones: dict[str, PersonPhone],
) -> None:
    change(phones["sam"], SmsStatus.DISABLED, StatusCause.ERROR_CODE, error_code=39999)

    rows = opt_out_report.opt_out_rows(
        list(opt_out_report.opt_out_changes(opt_out_report.OptOutFilter()))
    )

    assert rows[0].cause_text == "Twilio error code 39999"


def test_an_editor_without_a_person_record_is_named_by_username(
    phones: dict[str, PersonPhone],
) -> None:
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    change(phones["sam"], SmsStatus.DISABLED, StatusCause.MANUAL, actor=root)

    rows = opt_out_report.opt_out_rows(
        list(opt_out_report.opt_out_changes(opt_out_report.OptOutFilter()))
    )

    assert rows[0].cause_text == "By hand, by root"


def test_the_page_filters_by_whole_days_of_the_institutions_time_zone_and_by_change(
    phones: dict[str, PersonPhone], admin_user: Any
) -> None:
    # 2026-03-02 04:30 UTC is 23:30 on 1 March in New York.
    change(
        phones["sam"],
        SmsStatus.DISABLED,
        StatusCause.OPT_OUT,
        datetime(2026, 3, 2, 4, 30, tzinfo=UTC),
    )
    change(
        phones["tia"],
        SmsStatus.DISABLED,
        StatusCause.OPT_OUT,
        datetime(2026, 3, 2, 5, 30, tzinfo=UTC),
    )
    change(
        phones["tia"], SmsStatus.ENABLED, StatusCause.OPT_IN, datetime(2026, 3, 3, 15, tzinfo=UTC)
    )
    client = login(admin_user)

    def numbers(**params: str) -> list[str]:
        response = client.get(reverse(PAGE), params)
        assert response.status_code == 200
        return [r.change.phone.number for r in response.context["rows"]]

    assert numbers(start="2026-03-01", end="2026-03-01") == ["+12025550101"]
    assert numbers(start="2026-03-02") == ["+12025550102", "+12025550102"]
    assert numbers(end="2026-03-02") == ["+12025550102", "+12025550101"]
    assert numbers(kind="lifted") == ["+12025550102"]
    assert numbers(kind="disabled", start="2026-03-02") == ["+12025550102"]


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"start": "2026-02-30"}, "start", "YYYY-MM-DD"),
        ({"end": "yesterday"}, "end", "YYYY-MM-DD"),
        ({"start": "2026-03-05", "end": "2026-03-01"}, "end", "before its start"),
        ({"kind": "enabled"}, "kind", "Choose"),
    ],
)
@pytest.mark.parametrize("name", [PAGE, CSV])
def test_a_filter_that_is_not_understood_is_a_400_with_the_error_next_to_the_field(
    db: Any, admin_user: Any, name: str, params: dict[str, str], field: str, says: str
) -> None:
    response = login(admin_user).get(reverse(name), params)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert says in response.context["form"].errors[field][0]
    assert b'id="opt-out-report"' not in response.content


def test_the_page_shows_50_changes_a_page_for_the_same_queries_however_many(
    db: Any, cell: Any, admin_user: Any, editor: Any
) -> None:
    client = login(admin_user)

    def load(count: int) -> None:
        for _ in range(count):
            phone = factories.PhoneFactory(person=factories.student(), phone_type=cell)
            change(phone, SmsStatus.DISABLED, StatusCause.MANUAL, actor=editor)

    def page_queries(page: int = 1) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse(PAGE), {"page": page})
        assert response.status_code == 200
        return len(captured), len(response.context["rows"])

    load(1)
    few = page_queries()
    load(59)
    many = page_queries()

    assert (few[1], many[1], page_queries(2)[1]) == (1, 50, 10)
    assert few[0] == many[0]
    assert b"Page 1 of 2" in client.get(reverse(PAGE)).content


def test_the_csv_lists_every_matching_change_with_cause_person_phone_and_time(
    phones: dict[str, PersonPhone], admin_user: Any, editor: Any
) -> None:
    at = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    change(phones["sam"], SmsStatus.DISABLED, StatusCause.OPT_OUT, at)
    change(phones["sam"], SmsStatus.DEFAULT, StatusCause.MANUAL, actor=editor, reason="=cmd|x")

    response = login(admin_user).get(reverse(CSV))
    rows = csv_rows(response)

    assert response["Content-Disposition"].startswith('attachment; filename="opt-outs-')
    assert rows[1] == {
        "changed_at": "2026-03-02T10:00:00-05:00",
        "change": "disabled",
        "old_status": "default",
        "new_status": "disabled",
        "cause": "opt_out",
        "cause_text": "The person texted an opt-out keyword (STOP)",
        "error_code": "",
        "changed_by": "",
        "reason": "",
        "person_id": str(phones["sam"].person_id),
        "person": "Sam Student",
        "phone": "'+12025550101",
    }
    assert (rows[0]["change"], rows[0]["changed_by"], rows[0]["reason"]) == (
        "lifted",
        "Dana Dean",
        "'=cmd|x",
    )


def test_the_csv_of_a_range_without_changes_is_the_header_alone(
    phones: dict[str, PersonPhone], admin_user: Any
) -> None:
    change(phones["sam"], SmsStatus.DISABLED, StatusCause.OPT_OUT)

    response = login(admin_user).get(reverse(CSV), {"start": "2025-01-01", "end": "2025-01-31"})

    assert b"".join(response.streaming_content).decode().splitlines() == [
        ",".join(opt_out_report.CSV_HEADER)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("name", [PAGE, CSV])
def test_only_administrators_open_the_opt_out_report(name: str, advisor: Any) -> None:
    assert Client().get(reverse(name))["Location"].startswith("/accounts/login/")
    assert login(advisor.user).get(reverse(name)).status_code == 403
