"""Analytics per month and per staff member (A3): the month parameter, the figures and their
definitions, month boundaries in the institution's time zone, the 12-month trend, the CSV, the
page and `GET /api/v1/analytics/messages/`, and a fixed number of queries whatever the data."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from messaging import analytics
from messaging.analytics import Month
from messaging.models import Channel, Direction, Message, MonthSummary, Status
from people.models import Person
from tests import factories

# 2026-03-20 12:00 in New York (the default TIME_ZONE): the current month is 2026-03.
NOW = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
MID_MARCH = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
API = "/api/v1/analytics/messages/"


@pytest.fixture(autouse=True)
def fixed_clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def institution_zone(settings: Any) -> None:
    settings.TIME_ZONE = "America/New_York"


def message(at: datetime = MID_MARCH, **fields: Any) -> Message:
    fields.setdefault("direction", Direction.OUTBOUND)
    fields.setdefault("channel", Channel.SMS)
    fields.setdefault("status", Status.SENT)
    fields.setdefault("body", "Hello")
    row = Message.objects.create(**fields)
    Message.objects.filter(pk=row.pk).update(created_at=at)
    return row


def text(staff: Person, student: Person, at: datetime = MID_MARCH, **fields: Any) -> Message:
    return message(at, sender=staff, recipient=student, **fields)


def inbound(student: Person | None, staff: Person | None, **fields: Any) -> Message:
    at = fields.pop("at", MID_MARCH)
    fields.setdefault("status", Status.RECEIVED)
    return message(at, direction=Direction.INBOUND, sender=student, recipient=staff, **fields)


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# The month parameter (no database) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Month(2026, 3)),
        ("", Month(2026, 3)),
        ("  ", Month(2026, 3)),
        ("2026-03", Month(2026, 3)),
        ("2025-12", Month(2025, 12)),
        ("2000-01", Month(2000, 1)),
        (" 2026-01 ", Month(2026, 1)),
    ],
)
def test_a_month_is_read_as_yyyy_mm_and_blank_is_this_month(
    value: str | None, expected: Month
) -> None:
    assert analytics.month_parse(value) == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2026-3", "YYYY-MM"),
        ("03-2026", "YYYY-MM"),
        ("2026-03-01", "YYYY-MM"),
        ("March", "YYYY-MM"),
        ("\uff12\uff10\uff12\uff16-\uff10\uff13", "YYYY-MM"),  # full-width digits
        ("2026-13", "01 to 12"),
        ("2026-00", "01 to 12"),
        ("1999-12", "from 2000-01 to 2026-03"),
        ("2026-04", "is in the future"),
        ("2031-01", "is in the future"),
    ],
)
def test_a_month_that_is_not_yyyy_mm_or_is_in_the_future_is_refused_with_the_reason(
    value: str, says: str
) -> None:
    with pytest.raises(analytics.MonthError, match=says):
        analytics.month_parse(value)


def test_the_current_month_is_the_institutions_not_utcs() -> None:
    # 2026-04-01 02:00 UTC is still 2026-03-31 22:00 in New York.
    assert analytics.month_current(datetime(2026, 4, 1, 2, 0, tzinfo=UTC)) == Month(2026, 3)


def test_month_arithmetic_crosses_years() -> None:
    assert Month(2026, 1).shift(-1) == Month(2025, 12)
    assert Month(2025, 12).shift(1) == Month(2026, 1)
    assert Month(2026, 3).shift(-11) == Month(2025, 4)
    assert Month(2026, 3).start() == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    # New York is on summer time on 1 April: the month starts at 04:00 UTC.
    assert Month(2026, 3).end() == datetime(2026, 4, 1, 4, 0, tzinfo=UTC)


# The figures ------------------------------------------------------------------------------------


@pytest.fixture
def cast(db: Any) -> dict[str, Person]:
    return {
        "alex": factories.staff(first_name="Alex", last_name="Advisor"),
        "casey": factories.staff(role_code="coach", first_name="Casey", last_name="Coach"),
        "sam": factories.student(first_name="Sam", last_name="Student"),
        "tia": factories.student(first_name="Tia", last_name="Turner"),
        "uma": factories.student(first_name="Uma", last_name="Usher"),
    }


def test_each_staff_members_month_counts_texts_outcomes_emails_replies_and_opt_outs(
    cast: dict[str, Person],
) -> None:
    alex, casey, sam, tia, uma = (cast[k] for k in ("alex", "casey", "sam", "tia", "uma"))
    text(alex, sam, status=Status.DELIVERED)
    text(alex, sam, status=Status.DELIVERED)
    text(alex, tia, status=Status.FAILED)
    text(alex, tia, status=Status.UNDELIVERED)
    text(alex, uma, status=Status.QUEUED)
    text(alex, uma, status=Status.SENT, error_code=21610, failure_reason="")
    text(alex, uma, channel=Channel.EMAIL, status=Status.SENT)
    text(alex, uma, channel=Channel.NONE, status=Status.FAILED)
    inbound(sam, alex, body="Thanks!", is_reply=True)
    inbound(sam, alex, body="See you", is_reply=True)
    inbound(tia, alex, body="STOP", keyword="stop")
    inbound(tia, alex, body="HELP", keyword="help", is_reply=True)
    # A text first to Alex's number is not a reply to a text of his.
    inbound(uma, alex, body="Hi, new here", is_reply=False)
    text(casey, sam, status=Status.DELIVERED)

    report = analytics.month_report(Month(2026, 3))

    assert [(r.staff_name, r.figures) for r in report.rows] == [
        (
            "Alex Advisor",
            analytics.Figures(
                sent=6,
                delivered=2,
                failed=2,
                by_email=1,
                replies=2,
                opt_outs=2,
                people_texted=3,
                people_replied=1,
            ),
        ),
        (
            "Casey Coach",
            analytics.Figures(sent=1, delivered=1, people_texted=1),
        ),
    ]
    alex_figures = report.rows[0].figures
    assert alex_figures.delivered_percent == 33.3
    assert alex_figures.failed_percent == 33.3
    assert alex_figures.awaiting == 2
    assert alex_figures.reply_rate == 33.3


def test_the_offices_automatic_help_answers_and_other_months_are_not_counted(
    cast: dict[str, Person],
) -> None:
    message(recipient=cast["sam"], keyword="help", status=Status.SENT)  # no sender: the office
    text(cast["alex"], cast["sam"], at=datetime(2026, 2, 10, 15, 0, tzinfo=UTC))

    assert analytics.month_report(Month(2026, 3)).rows == ()
    assert analytics.month_report(Month(2026, 2)).rows[0].figures.sent == 1


def test_a_stop_that_reached_no_staff_member_counts_only_in_the_months_total(
    cast: dict[str, Person],
) -> None:
    inbound(cast["sam"], None, body="STOP", keyword="stop")
    inbound(None, None, body="stop", keyword="stop", from_number="+12025550100")
    inbound(cast["tia"], cast["alex"], body="Stop", keyword="stop")

    report = analytics.month_report(Month(2026, 3))

    assert [(r.staff_name, r.figures.opt_outs) for r in report.rows] == [("Alex Advisor", 1)]
    assert report.unattributed_opt_outs == 2
    assert report.totals.opt_outs == 3


def test_the_reply_rate_is_the_share_of_people_texted_who_replied_and_at_most_100(
    cast: dict[str, Person],
) -> None:
    alex, sam = cast["alex"], cast["sam"]
    text(alex, sam)
    for _ in range(3):
        inbound(sam, alex, body="Yes", is_reply=True)
    # Tia replies in March to a February text: she was not texted in March.
    inbound(cast["tia"], alex, body="Late answer", is_reply=True)

    figures = analytics.month_report(Month(2026, 3)).rows[0].figures

    assert (figures.replies, figures.people_texted, figures.people_replied) == (4, 1, 2)
    assert figures.reply_rate == 100.0


def test_rates_of_a_staff_member_with_no_texts_are_unknown_not_zero(
    cast: dict[str, Person],
) -> None:
    text(cast["alex"], cast["sam"], channel=Channel.EMAIL)

    figures = analytics.month_report(Month(2026, 3)).rows[0].figures

    assert figures.by_email == 1
    assert (figures.delivered_percent, figures.failed_percent, figures.reply_rate) == (
        None,
        None,
        None,
    )


def test_month_boundaries_are_midnight_in_the_institutions_time_zone(
    cast: dict[str, Person],
) -> None:
    alex, sam = cast["alex"], cast["sam"]
    # 2026-03-01 04:59 UTC is 23:59 on 28 February in New York; 05:00 UTC is midnight, 1 March.
    text(alex, sam, at=datetime(2026, 3, 1, 4, 59, tzinfo=UTC), status=Status.DELIVERED)
    text(alex, sam, at=datetime(2026, 3, 1, 5, 0, tzinfo=UTC), status=Status.FAILED)

    february = analytics.month_report(Month(2026, 2)).rows[0].figures
    march = analytics.month_report(Month(2026, 3)).rows[0].figures
    by_month = {m.month: m for m in analytics.trend(Month(2026, 3))}

    assert (february.sent, february.delivered, march.sent, march.failed) == (1, 1, 1, 1)
    assert (by_month[Month(2026, 2)].delivered, by_month[Month(2026, 3)].failed) == (1, 1)


def test_month_boundaries_follow_the_configured_time_zone(
    cast: dict[str, Person], settings: Any
) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"
    # 2026-02-28 15:30 UTC is 00:30 on 1 March in Tokyo.
    text(cast["alex"], cast["sam"], at=datetime(2026, 2, 28, 15, 30, tzinfo=UTC))

    assert analytics.month_report(Month(2026, 2)).rows == ()
    assert analytics.month_report(Month(2026, 3)).rows[0].figures.sent == 1
    assert analytics.trend(Month(2026, 3))[-1].texts == 1


def test_the_trend_has_twelve_months_oldest_first_with_empty_months_as_zero(
    cast: dict[str, Person],
) -> None:
    alex, sam = cast["alex"], cast["sam"]
    text(alex, sam, at=datetime(2025, 4, 15, 12, 0, tzinfo=UTC), status=Status.DELIVERED)
    text(alex, sam, at=datetime(2025, 3, 15, 12, 0, tzinfo=UTC))  # 13 months back: left out
    text(alex, sam, status=Status.FAILED)
    text(alex, sam, status=Status.QUEUED)
    text(alex, sam, channel=Channel.EMAIL)
    inbound(sam, alex, body="Hi", is_reply=True)

    months = analytics.trend(Month(2026, 3))

    assert [m.month for m in months] == [Month(2025, 4).shift(i) for i in range(12)]
    assert (months[0].delivered, months[0].total) == (1, 1)
    assert [m.total for m in months[1:11]] == [0] * 10
    last = months[-1]
    assert (last.delivered, last.failed, last.awaiting, last.by_email, last.total) == (
        0,
        1,
        1,
        1,
        3,
    )


# A fixed number of queries -----------------------------------------------------------------------


def _staff_with_traffic(count: int) -> None:
    students = [factories.student() for _ in range(3)]
    for index in range(count):
        staff = factories.staff()
        text(staff, students[index % 3], status=Status.DELIVERED)
        text(staff, students[index % 3], channel=Channel.EMAIL)
        inbound(students[index % 3], staff, body="Ok", is_reply=True)
        inbound(students[index % 3], staff, body="STOP", keyword="stop")


def _queries(callable_: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        callable_()
    return len(captured)


@pytest.mark.django_db
def test_the_month_and_its_trend_cost_the_same_queries_for_1_and_50_staff_members(
    admin_user: Any,
) -> None:
    client = login(admin_user)
    page = reverse("insight-analytics")
    api = APIClient()
    api.force_authenticate(admin_user)

    def read() -> None:
        analytics.month_report(Month(2026, 3))
        analytics.trend(Month(2026, 3))

    _staff_with_traffic(1)
    first_view = _queries(read)
    one = (_queries(read), _queries(lambda: client.get(page)), _queries(lambda: api.get(API)))
    _staff_with_traffic(49)
    fifty = (_queries(read), _queries(lambda: client.get(page)), _queries(lambda: api.get(API)))

    assert len(analytics.month_report(Month(2026, 3)).rows) == 50
    assert one == fifty
    # Month: rows and names; trend: the settled months' sums and the live count of March.
    assert one[0] == 4
    # The first view also sums the settled months once and stores them.
    assert first_view == 5


def test_settled_months_are_summed_once_and_months_still_moving_are_counted_live(
    cast: dict[str, Person],
) -> None:
    alex, sam = cast["alex"], cast["sam"]
    old = text(alex, sam, at=datetime(2026, 1, 15, 15, 0, tzinfo=UTC), status=Status.SENT)
    # February ended on 1 March 05:00 UTC: within the 7 settling days until 8 March 05:00 UTC.
    late = text(alex, sam, at=datetime(2026, 2, 20, 15, 0, tzinfo=UTC), status=Status.SENT)
    march = text(alex, sam, status=Status.SENT)
    first = {
        m.month: m for m in analytics.trend(Month(2026, 3), now=datetime(2026, 3, 5, tzinfo=UTC))
    }
    Message.objects.filter(pk__in=[old.pk, late.pk, march.pk]).update(status=Status.DELIVERED)

    again = {
        m.month: m for m in analytics.trend(Month(2026, 3), now=datetime(2026, 3, 5, tzinfo=UTC))
    }
    settled_later = {m.month: m for m in analytics.trend(Month(2026, 3))}

    assert first[Month(2026, 1)].awaiting == 1
    # January was summed on the first view and is read back as it was.
    assert (again[Month(2026, 1)].awaiting, again[Month(2026, 1)].delivered) == (1, 0)
    # February was still settling on 5 March, March is this month: both counted live.
    assert (again[Month(2026, 2)].delivered, again[Month(2026, 3)].delivered) == (1, 1)
    # On 20 March February has settled: summed then, with its final figures.
    assert settled_later[Month(2026, 2)].delivered == 1
    assert set(MonthSummary.objects.filter(year=2026).values_list("month", flat=True)) == {1, 2}
    assert MonthSummary.objects.count() == 11  # April 2025 to February 2026


def test_months_summed_in_another_time_zone_are_summed_again(
    cast: dict[str, Person], settings: Any
) -> None:
    # 2026-01-31 20:00 UTC: 15:00 on 31 January in New York, 05:00 on 1 February in Tokyo.
    text(cast["alex"], cast["sam"], at=datetime(2026, 1, 31, 20, 0, tzinfo=UTC))
    new_york = {m.month: m.total for m in analytics.trend(Month(2026, 3))}
    settings.TIME_ZONE = "Asia/Tokyo"
    tokyo = {m.month: m.total for m in analytics.trend(Month(2026, 3))}

    assert (new_york[Month(2026, 1)], new_york[Month(2026, 2)]) == (1, 0)
    assert (tokyo[Month(2026, 1)], tokyo[Month(2026, 2)]) == (0, 1)


# CSV ----------------------------------------------------------------------------------------------


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_csv_has_one_line_per_staff_member_of_the_month(
    cast: dict[str, Person], admin_user: Any
) -> None:
    text(cast["alex"], cast["sam"], status=Status.DELIVERED)
    text(cast["alex"], cast["tia"], status=Status.FAILED)
    inbound(cast["sam"], cast["alex"], body="Yes", is_reply=True)

    response = login(admin_user).get(reverse("insight-analytics-csv"), {"month": "2026-03"})

    assert response["Content-Disposition"] == 'attachment; filename="analytics-2026-03.csv"'
    assert _csv(response) == [
        {
            "month": "2026-03",
            "staff_id": str(cast["alex"].pk),
            "staff": "Alex Advisor",
            "sent": "2",
            "delivered": "1",
            "delivered_percent": "50.0",
            "failed": "1",
            "failed_percent": "50.0",
            "by_email": "0",
            "replies": "1",
            "reply_rate_percent": "50.0",
            "opt_outs": "0",
        }
    ]


def test_the_csv_of_a_month_without_messages_is_the_header_alone(
    cast: dict[str, Person], admin_user: Any
) -> None:
    text(cast["alex"], cast["sam"])

    response = login(admin_user).get(reverse("insight-analytics-csv"), {"month": "2025-11"})

    assert response.status_code == 200
    assert response.content.decode().splitlines() == [",".join(analytics.CSV_HEADER)]


def test_a_staff_name_a_spreadsheet_would_run_as_a_formula_is_quoted(
    db: Any, admin_user: Any
) -> None:
    staff = factories.staff(first_name="=HYPERLINK(1)", last_name="X")
    text(staff, factories.student())

    rows = _csv(login(admin_user).get(reverse("insight-analytics-csv")))

    assert rows[0]["staff"] == "'=HYPERLINK(1) X"


@pytest.mark.parametrize("month", ["2026-3", "2026-04", "nonsense"])
def test_the_csv_of_a_bad_or_future_month_is_refused_on_the_page(
    db: Any, admin_user: Any, month: str
) -> None:
    response = login(admin_user).get(reverse("insight-analytics-csv"), {"month": month})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert response.context["form"].errors["month"]


# The page ---------------------------------------------------------------------------------------


def test_the_page_shows_the_month_per_staff_member_and_the_chart_with_its_text_alternative(
    cast: dict[str, Person], admin_user: Any
) -> None:
    text(cast["alex"], cast["sam"], status=Status.DELIVERED)
    text(cast["casey"], cast["tia"], status=Status.FAILED)
    text(cast["alex"], cast["sam"], at=datetime(2025, 12, 5, 15, 0, tzinfo=UTC))

    response = login(admin_user).get(reverse("insight-analytics"), {"month": "2026-03"})

    assert response.status_code == 200
    body = response.content.decode()
    assert [r.staff_name for r in response.context["report"].rows] == [
        "Alex Advisor",
        "Casey Coach",
    ]
    assert '<svg id="trend-chart"' in body
    assert 'aria-labelledby="trend-chart-title"' in body
    assert 'aria-describedby="trend-chart-desc"' in body
    assert "April 2025 to March 2026" in body
    assert "staff sent 3 texts and 0 emails instead" in body
    assert body.count("<rect ") == 3  # Dec: awaiting; Mar: delivered and failed
    assert 'id="trend-table"' in body
    assert "December 2025" in body


def test_the_page_of_this_month_offers_the_previous_month_but_no_next(
    db: Any, admin_user: Any
) -> None:
    response = login(admin_user).get(reverse("insight-analytics"))

    assert response.context["month"] == Month(2026, 3)
    assert response.context["previous"] == Month(2026, 2)
    assert response.context["next"] is None
    assert "No staff member sent or received anything in March 2026." in response.content.decode()


def test_the_first_months_trend_links_only_to_months_the_page_shows(
    db: Any, admin_user: Any
) -> None:
    client = login(admin_user)
    page = client.get(reverse("insight-analytics"), {"month": "2000-01"}).content.decode()
    table = page.split('id="trend-table"')[1].split("</table>")[0]

    assert client.get(reverse("insight-analytics"), {"month": "1999-12"}).status_code == 400
    assert 'href="?month=2000-01"' in table
    assert "?month=1999-" not in table
    assert '<th scope="row">December 1999</th>' in table
    assert 'rel="prev"' not in page


@pytest.mark.parametrize(
    ("month", "says"),
    [("2026/03", "YYYY-MM"), ("2026-04", "is in the future"), ("2026-13", "01 to 12")],
)
def test_a_bad_month_on_the_page_is_a_400_with_the_error_next_to_the_field(
    db: Any, admin_user: Any, month: str, says: str
) -> None:
    response = login(admin_user).get(reverse("insight-analytics"), {"month": month})

    assert response.status_code == 400
    assert says in response.context["form"].errors["month"][0]
    assert "trend-chart" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["insight-analytics", "insight-analytics-csv"])
def test_only_administrators_open_the_analytics(name: str, advisor: Person) -> None:
    assert Client().get(reverse(name))["Location"].startswith("/accounts/login/")
    response = login(advisor.user).get(reverse(name))
    assert response.status_code == 403


# The API ------------------------------------------------------------------------------------------


def test_the_api_gives_each_staff_members_figures_under_the_contracts_names(
    cast: dict[str, Person], admin_api: APIClient
) -> None:
    text(cast["alex"], cast["sam"], status=Status.DELIVERED)
    text(cast["alex"], cast["tia"], status=Status.UNDELIVERED, error_code=21610)
    text(cast["alex"], cast["tia"], channel=Channel.EMAIL)
    inbound(cast["sam"], cast["alex"], body="Thanks", is_reply=True)
    inbound(cast["uma"], None, body="STOP", keyword="stop")

    response = admin_api.get(API, {"month": "2026-03"})

    assert response.status_code == 200
    assert response.json() == {
        "month": "2026-03",
        "time_zone": "America/New_York",
        "results": [
            {
                "staff": cast["alex"].pk,
                "staff_name": "Alex Advisor",
                "sent": 2,
                "delivered": 1,
                "failed": 1,
                "by_email": 1,
                "replies": 1,
                "opt_outs": 1,
            }
        ],
        "totals": {
            "sent": 2,
            "delivered": 1,
            "failed": 1,
            "by_email": 1,
            "replies": 1,
            "opt_outs": 2,
        },
    }


def test_the_api_without_a_month_answers_this_month(db: Any, admin_api: APIClient) -> None:
    response = admin_api.get(API)

    assert response.status_code == 200
    assert response.json()["month"] == "2026-03"
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("month", "says"),
    [
        ("2026-3", "YYYY-MM"),
        ("26-03", "YYYY-MM"),
        ("2026-03-01", "YYYY-MM"),
        ("2026-13", "01 to 12"),
        ("2026-04", "is in the future"),
        ("9999-12", "is in the future"),
        ("0001-01", "from 2000-01"),
        ("2026-03\x00", "YYYY-MM"),
    ],
)
def test_the_api_refuses_a_bad_or_future_month_with_a_400_naming_month(
    db: Any, admin_api: APIClient, month: str, says: str
) -> None:
    response = admin_api.get(API, {"month": month})

    assert response.status_code == 400
    assert list(response.json()) == ["month"]
    assert says in response.json()["month"][0]


def test_the_trend_takes_a_months_counts_from_its_report_without_counting_it_again(
    cast: dict[str, Person],
) -> None:
    alex, casey, sam = cast["alex"], cast["casey"], cast["sam"]
    text(alex, sam, status=Status.DELIVERED)
    text(casey, sam, status=Status.UNDELIVERED)
    text(casey, sam, channel=Channel.EMAIL)
    text(alex, sam, status=Status.QUEUED)
    message(recipient=sam, keyword="help")  # the office's answer: in neither
    inbound(sam, alex, body="Yes", is_reply=True)
    report = analytics.month_report(Month(2026, 3))
    analytics.trend(Month(2026, 3))  # the settled months are summed

    with CaptureQueriesContext(connection) as captured:
        from_report = analytics.trend(Month(2026, 3), known=report)

    assert from_report == analytics.trend(Month(2026, 3))
    assert (from_report[-1].delivered, from_report[-1].failed, from_report[-1].awaiting) == (
        1,
        1,
        1,
    )
    assert len(captured) == 1  # the settled months' sums only
