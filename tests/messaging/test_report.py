"""The Message Report page and its CSV export through Django's test client, and the filter they
share with the REST report (S7, S9)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from messaging import report
from messaging.models import Channel, Direction, FailureReason, Message, Status
from people.models import Person
from tests import factories

PAGE = "message-report"
CSV = "message-report-csv"


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def message(**fields: Any) -> Message:
    created_at = fields.pop("created_at", None)
    fields.setdefault("direction", Direction.OUTBOUND)
    fields.setdefault("channel", Channel.SMS)
    fields.setdefault("body", "Hello")
    row = Message.objects.create(**fields)
    if created_at is not None:
        Message.objects.filter(pk=row.pk).update(created_at=created_at)
        row.refresh_from_db()
    return row


def shown(response: Any) -> list[str]:
    """The bodies of the messages on the page, in page order."""
    assert response.status_code == 200, response.content.decode()[:2000]
    return [m.body for m in response.context["page"]]


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def cast(db: Any) -> dict[str, Person]:
    return {
        "advisor": factories.staff(first_name="Alex", last_name="Advisor"),
        "coach": factories.staff(role_code="coach", first_name="Casey", last_name="Coach"),
        "sam": factories.student(first_name="Sam", last_name="Student", src_system_id="STU-1"),
        "tia": factories.student(first_name="Tia", last_name="Turner", email="tia@example.edu"),
    }


@pytest.fixture
def admin(admin_user: Any) -> Client:
    return login(admin_user)


# Who may open it -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", [PAGE, CSV])
def test_anonymous_visitors_are_sent_to_the_login_page(name: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", [PAGE, CSV])
def test_staff_who_are_not_administrators_get_the_403_page(name: str, advisor: Any) -> None:
    message(sender=advisor, body="private")
    response = login(advisor.user).get(reverse(name))
    assert response.status_code == 403
    assert b"Only administrators may open this page." in response.content
    assert b"private" not in response.content


@pytest.mark.parametrize("name", [PAGE, CSV])
def test_students_get_the_403_page(name: str, student_person: Any) -> None:
    assert login(student_person.user).get(reverse(name)).status_code == 403


def test_administrators_see_the_report_in_the_navigation(admin: Client) -> None:
    response = admin.get(reverse(PAGE))
    assert response.status_code == 200
    assert f'href="{reverse(PAGE)}" aria-current="page"' in response.content.decode()


# Filters ---------------------------------------------------------------------------------------


def test_the_report_lists_every_message_newest_first(admin: Client, cast: dict[str, Any]) -> None:
    message(body="old", created_at=datetime(2024, 1, 1, tzinfo=UTC))
    message(body="new", created_at=datetime(2024, 3, 1, tzinfo=UTC))
    message(body="middle", created_at=datetime(2024, 2, 1, tzinfo=UTC))
    assert shown(admin.get(reverse(PAGE))) == ["new", "middle", "old"]


def test_from_finds_the_sender_by_name_by_sis_id_and_by_person_id(
    admin: Client, cast: dict[str, Any]
) -> None:
    message(direction=Direction.INBOUND, sender=cast["sam"], status=Status.RECEIVED, body="sam")
    message(direction=Direction.INBOUND, sender=cast["tia"], status=Status.RECEIVED, body="tia")
    message(sender=cast["advisor"], recipient=cast["sam"], body="to sam")
    for value in ["Sam Student", "sam", "STU-1", str(cast["sam"].pk), " student sam "]:
        assert shown(admin.get(reverse(PAGE), {"sender": value})) == ["sam"], value


def test_from_with_a_word_shared_by_several_people_lists_them_all(
    admin: Client, cast: dict[str, Any]
) -> None:
    message(direction=Direction.INBOUND, sender=cast["sam"], body="sam")
    message(direction=Direction.INBOUND, sender=cast["tia"], body="tia")
    message(sender=cast["advisor"], recipient=cast["tia"], body="advisor")
    assert sorted(shown(admin.get(reverse(PAGE), {"sender": "example.edu"}))) == [
        "advisor",
        "sam",
        "tia",
    ]
    assert shown(admin.get(reverse(PAGE), {"sender": "nobody-has-this-name"})) == []


def test_to_finds_the_recipient_by_name_email_or_id(admin: Client, cast: dict[str, Any]) -> None:
    message(sender=cast["advisor"], recipient=cast["sam"], body="to sam")
    message(sender=cast["advisor"], recipient=cast["tia"], body="to tia")
    for value in ["Turner", "tia@example.edu", str(cast["tia"].pk)]:
        assert shown(admin.get(reverse(PAGE), {"recipient": value})) == ["to tia"], value


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("channel", "email", ["email"]),
        ("status", "delivered", ["sms"]),
        ("failure_reason", "SMS_LIMIT_REACHED", ["email"]),
        ("direction", "inbound", ["reply"]),
    ],
)
def test_each_choice_filter_narrows_the_report(
    admin: Client, cast: dict[str, Any], name: str, value: str, expected: list[str]
) -> None:
    message(sender=cast["advisor"], body="sms", status=Status.DELIVERED)
    message(
        sender=cast["advisor"],
        body="email",
        channel=Channel.EMAIL,
        status=Status.SENT,
        failure_reason=FailureReason.SMS_LIMIT_REACHED,
    )
    message(direction=Direction.INBOUND, sender=cast["sam"], body="reply", status="received")
    assert shown(admin.get(reverse(PAGE), {name: value})) == expected


def test_filters_combine(admin: Client, cast: dict[str, Any]) -> None:
    message(sender=cast["advisor"], recipient=cast["sam"], channel=Channel.EMAIL, body="a")
    message(sender=cast["advisor"], recipient=cast["tia"], channel=Channel.EMAIL, body="b")
    message(sender=cast["coach"], recipient=cast["sam"], channel=Channel.EMAIL, body="c")
    message(sender=cast["advisor"], recipient=cast["sam"], body="d")
    query = {"sender": "Advisor", "recipient": "Sam", "channel": "email"}
    assert shown(admin.get(reverse(PAGE), query)) == ["a"]


def test_dates_are_whole_days_in_the_institution_time_zone(
    admin: Client, cast: dict[str, Any], settings: Any
) -> None:
    settings.TIME_ZONE = "America/New_York"
    zone = ZoneInfo("America/New_York")
    # 23:30 on January 5 in New York is already January 6 in UTC.
    message(body="late on the 5th", created_at=datetime(2024, 1, 5, 23, 30, tzinfo=zone))
    message(body="early on the 6th", created_at=datetime(2024, 1, 6, 0, 30, tzinfo=zone))
    message(body="on the 4th", created_at=datetime(2024, 1, 4, 12, 0, tzinfo=zone))

    def between(after: str, before: str) -> list[str]:
        query = {"created_after": after, "created_before": before}
        return shown(admin.get(reverse(PAGE), query))

    assert between("2024-01-05", "2024-01-05") == ["late on the 5th"]
    assert between("2024-01-06", "") == ["early on the 6th"]
    assert between("", "2024-01-04") == ["on the 4th"]
    assert between("2024-01-04", "2024-01-06") == [
        "early on the 6th",
        "late on the 5th",
        "on the 4th",
    ]


def test_the_pager_keeps_the_filters(admin: Client, cast: dict[str, Any]) -> None:
    for i in range(30):
        message(sender=cast["advisor"], body=f"m{i}", channel=Channel.EMAIL)
    message(sender=cast["advisor"], body="sms")
    response = admin.get(reverse(PAGE), {"channel": "email", "sender": "Alex Advisor"})
    assert response.context["page"].paginator.count == 30
    assert "?sender=Alex+Advisor&amp;channel=email&amp;page=2" in response.content.decode()
    second = admin.get(reverse(PAGE), {"channel": "email", "sender": "Alex Advisor", "page": 2})
    assert len(shown(second)) == 5


# Bad filter values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"status": "lost"}, "status", "Unknown status 'lost'"),
        ({"channel": "fax"}, "channel", "Unknown channel 'fax'"),
        ({"failure_reason": "NOPE"}, "failure_reason", "Unknown failure reason 'NOPE'"),
        ({"direction": "sideways"}, "direction", "Unknown direction 'sideways'"),
        ({"created_after": "yesterday"}, "created_after", "is not a date (YYYY-MM-DD)"),
        ({"created_before": "2026-13-45"}, "created_before", "is not a date (YYYY-MM-DD)"),
        ({"created_after": "0001-01-01T00:00:00+14:00"}, "created_after", "out of the range"),
        ({"created_before": "9999-12-31"}, "created_before", "out of the range"),
        ({"sender": "9" * 25}, "sender", "is not a person id"),
        ({"cohort": "-1"}, "cohort", "'-1' is not a cohort number (cohorts are numbered from 1)."),
        (
            {"created_after": "2024-02-01", "created_before": "2024-01-01"},
            "created_before",
            "The end of the date range is before its start.",
        ),
        ({"recipient": "x\x00y"}, "recipient", "Null characters are not allowed."),
    ],
)
def test_a_bad_filter_value_is_a_form_error_next_to_its_field_not_a_500(
    admin: Client, cast: dict[str, Any], query: dict[str, str], field: str, words: str
) -> None:
    message(sender=cast["advisor"], body="still there")
    response = admin.get(reverse(PAGE), query)
    assert response.status_code == 400
    assert any(words in error for error in response.context["form"].errors[field])
    content = response.content.decode()
    assert f'id="field-{field}"' in content and "field-error" in content
    assert "Fix the filters marked above" in content
    assert "still there" not in content


def test_a_csv_export_with_a_bad_filter_shows_the_page_with_the_error(admin: Client) -> None:
    response = admin.get(reverse(CSV), {"status": "lost"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Unknown status &#x27;lost&#x27;" in response.content.decode()


def test_the_api_takes_person_ids_only_while_the_page_also_takes_names() -> None:
    with pytest.raises(report.ReportFilterError) as raised:
        report.report_filter_parse({"sender": "Sam"})
    assert raised.value.errors == {"sender": "'Sam' is not a person id (a whole number)."}
    parsed = report.report_filter_parse({"sender": "Sam"}, people_by_name=True)
    assert parsed.sender == report.PersonMatch(search="Sam")


def test_digits_that_are_not_ascii_are_searched_not_taken_for_an_id() -> None:
    assert report.report_filter_parse({"sender": "²"}, people_by_name=True).sender == (
        report.PersonMatch(search="²")
    )


def test_the_parser_reports_every_bad_value_at_once() -> None:
    with pytest.raises(report.ReportFilterError) as raised:
        report.report_filter_parse({"status": "lost", "channel": "fax", "page": "x"})
    assert set(raised.value.errors) == {"status", "channel"}


# The same filter behind the REST report ---------------------------------------------------------


def test_the_api_report_uses_the_institution_day_too(
    admin_api: APIClient, cast: dict[str, Any], settings: Any
) -> None:
    settings.TIME_ZONE = "America/New_York"
    zone = ZoneInfo("America/New_York")
    message(body="late on the 5th", created_at=datetime(2024, 1, 5, 23, 30, tzinfo=zone))
    message(body="early on the 6th", created_at=datetime(2024, 1, 6, 0, 30, tzinfo=zone))
    response = admin_api.get(
        "/api/v1/messages/", {"created_after": "2024-01-05", "created_before": "2024-01-05"}
    )
    assert [r["body"] for r in response.json()["results"]] == ["late on the 5th"]


def test_an_inclusive_api_end_date_time_includes_that_instant(
    admin_api: APIClient, cast: dict[str, Any]
) -> None:
    moment = datetime(2024, 1, 5, 12, 0, 0, 123456, tzinfo=UTC)
    message(body="at noon", created_at=moment)
    response = admin_api.get("/api/v1/messages/", {"created_before": moment.isoformat()})
    assert [r["body"] for r in response.json()["results"]] == ["at noon"]


def test_a_reversed_api_date_range_is_a_400_that_says_so(admin_api: APIClient) -> None:
    response = admin_api.get(
        "/api/v1/messages/", {"created_after": "2024-02-01", "created_before": "2024-01-01"}
    )
    assert response.status_code == 400
    assert response.json()["created_before"] == "The end of the date range is before its start."


def test_the_page_and_the_api_list_the_same_messages_for_the_same_query(
    admin: Client, admin_api: APIClient, cast: dict[str, Any]
) -> None:
    message(sender=cast["advisor"], recipient=cast["sam"], body="1", status=Status.FAILED)
    message(sender=cast["advisor"], recipient=cast["tia"], body="2", status=Status.FAILED)
    message(sender=cast["coach"], recipient=cast["sam"], body="3", status=Status.FAILED)
    message(sender=cast["advisor"], recipient=cast["sam"], body="4")
    query = {"sender": cast["advisor"].pk, "recipient": cast["sam"].pk, "status": "failed"}
    api = [r["body"] for r in admin_api.get("/api/v1/messages/", query).json()["results"]]
    assert api == shown(admin.get(reverse(PAGE), query)) == ["1"]


# What a row shows ------------------------------------------------------------------------------


def test_a_row_shows_the_destination_the_reason_in_words_and_the_fallback_link(
    admin: Client, cast: dict[str, Any]
) -> None:
    text = message(
        sender=cast["advisor"],
        recipient=cast["sam"],
        destination="+12025550111",
        from_number="+12015550100",
        status=Status.FAILED,
        failure_reason=FailureReason.TWILIO_INVALID_NUMBER,
        error_code=21211,
        segments=1,
    )
    message(
        sender=cast["advisor"],
        recipient=cast["sam"],
        channel=Channel.EMAIL,
        destination="sam@example.edu",
        status=Status.SENT,
        replaces=text,
    )
    content = admin.get(reverse(PAGE)).content.decode()
    assert '<td class="destination">+12025550111</td>' in content
    assert '<td class="destination">sam@example.edu</td>' in content
    assert '<span class="reason" title="TWILIO_INVALID_NUMBER">Invalid phone number</span>' in (
        content
    )
    assert "21211" in content and "+12015550100" in content
    assert f"replaces text #{text.pk}" in content


def test_a_student_who_texted_from_a_held_number_shows_with_its_destination(
    admin: Client, cast: dict[str, Any]
) -> None:
    """S9 and the seed's check: the students in From, the numbers in Destination."""
    message(
        sender=cast["sam"],
        recipient=cast["tia"],
        destination="+12025550177",
        from_number="+12015550199",
        created_at=datetime(2021, 9, 20, 12, 0, tzinfo=UTC),
        body="old student text",
    )
    message(sender=cast["advisor"], recipient=cast["sam"], destination="+12025550111")
    response = admin.get(reverse(PAGE), {"sender": "Sam Student"})
    assert shown(response) == ["old student text"]
    assert "+12025550177" in response.content.decode()
    assert "2021-09-20" in response.content.decode()


# CSV export ------------------------------------------------------------------------------------


def test_the_csv_export_streams_the_filtered_rows_with_a_header(
    admin: Client, cast: dict[str, Any], settings: Any
) -> None:
    settings.TIME_ZONE = "America/New_York"
    text = message(
        sender=cast["advisor"],
        recipient=cast["sam"],
        destination="sam@example.edu",
        channel=Channel.EMAIL,
        status=Status.SENT,
        failure_reason=FailureReason.NO_SMS_PHONE,
        segments=0,
        body="Come by, please",
        created_at=datetime(2024, 1, 6, 3, 0, tzinfo=UTC),
    )
    message(sender=cast["coach"], recipient=cast["sam"], body="not in this export")
    response = admin.get(reverse(CSV), {"sender": "Alex", "channel": "email"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="message-report-')
    assert response["Content-Disposition"].endswith('.csv"')
    rows = csv_rows(response)
    assert list(rows[0]) == list(report.CSV_HEADER)
    assert rows == [
        {
            "id": str(text.pk),
            "created_at": "2024-01-05T22:00:00-05:00",
            "direction": "outbound",
            "sender_id": str(cast["advisor"].pk),
            "from": "Alex Advisor",
            "from_number": "",
            "recipient_id": str(cast["sam"].pk),
            "to": "Sam Student",
            "channel": "email",
            "destination": "sam@example.edu",
            "status": "sent",
            "failure_reason": "NO_SMS_PHONE",
            "failure_reason_text": "No phone can receive texts",
            "error_code": "",
            "segments": "0",
            "replaces": "",
            "retry_of": "",
            "twilio_sid": "",
            "body": "Come by, please",
        }
    ]


def test_an_empty_csv_export_still_has_its_header(admin: Client) -> None:
    text = b"".join(admin.get(reverse(CSV)).streaming_content).decode()
    assert text == ",".join(report.CSV_HEADER) + "\r\n"


@pytest.mark.parametrize(
    "dangerous", ['=HYPERLINK("http://x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1"]
)
def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_get_a_leading_quote(
    admin: Client, dangerous: str
) -> None:
    sender = factories.staff(first_name=dangerous, last_name="")
    message(sender=sender, body=dangerous, destination=dangerous)
    [row] = csv_rows(admin.get(reverse(CSV)))
    assert row["body"] == row["destination"] == "'" + dangerous
    assert row["from"].startswith("'")


def test_csv_numbers_and_plain_text_are_left_alone(admin: Client) -> None:
    message(body="Hi = hello", error_code=30003, segments=2, destination="a@b.edu")
    [row] = csv_rows(admin.get(reverse(CSV)))
    assert (row["body"], row["error_code"], row["segments"], row["destination"]) == (
        "Hi = hello",
        "30003",
        "2",
        "a@b.edu",
    )


def test_the_page_links_to_the_csv_export_with_the_same_filters(
    admin: Client, cast: dict[str, Any]
) -> None:
    content = admin.get(reverse(PAGE), {"sender": "Sam", "status": "failed", "page": "1"})
    assert f'href="{reverse(CSV)}?sender=Sam&amp;status=failed"' in content.content.decode()


# Query budget ----------------------------------------------------------------------------------


def add_messages(count: int, people: dict[str, Person]) -> None:
    """`count` messages between the cast: texts, their email fallbacks and replies."""
    texts = Message.objects.bulk_create(
        Message(
            direction=Direction.OUTBOUND,
            sender=people["advisor"],
            recipient=people["sam"],
            channel=Channel.SMS,
            destination="+12025550111",
            status=Status.FAILED,
            failure_reason=FailureReason.TWILIO_INVALID_NUMBER,
            error_code=21211,
            body=f"text {i}",
        )
        for i in range(count // 2)
    )
    Message.objects.bulk_create(
        Message(
            direction=Direction.OUTBOUND,
            sender=people["advisor"],
            recipient=people["sam"],
            channel=Channel.EMAIL,
            destination="sam@example.edu",
            status=Status.SENT,
            replaces=text,
            body=f"email {i}",
        )
        for i, text in enumerate(texts)
    )


def queries(client: Client, name: str, query: dict[str, str]) -> tuple[int, int]:
    """(queries, rows listed) for one request, the whole streamed body read."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(name), query)
        if isinstance(response, StreamingHttpResponse):
            rows = len(csv_rows(response))
        else:
            rows = len(response.context["page"].object_list)
    assert response.status_code == 200
    return len(captured), rows


@pytest.mark.parametrize("name", [PAGE, CSV])
def test_the_page_and_the_csv_cost_the_same_queries_for_10_and_1000_messages(
    admin: Client, cast: dict[str, Any], name: str
) -> None:
    query = {"sender": "Alex Advisor", "recipient": "Sam"}
    add_messages(10, cast)
    with_ten, listed_ten = queries(admin, name, query)
    add_messages(990, cast)
    with_thousand, listed_thousand = queries(admin, name, query)
    assert listed_ten == 10
    assert listed_thousand == (1000 if name == CSV else 25)
    assert with_ten == with_thousand
