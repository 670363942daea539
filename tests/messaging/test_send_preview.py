"""The cohort preview: what a bulk send would do now, per channel and reason, with segments,
the month's remaining count and the cost; it records, reserves and assigns nothing, agrees with
the send that follows, and costs the same queries for 10 and for 50 recipients."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from messaging.models import Message
from people.models import SmsStatus
from sms_admin import pool
from sms_admin import services as sms_admin_services
from sms_admin.models import SenderAssignment
from tests import factories
from tests.sending_support import pool_numbers, student_with_phone

PREVIEW = "/api/v1/messages/bulk/preview/"


def cohort() -> list[int]:
    texted = [student_with_phone(f"+1202555{i:04d}")[0] for i in range(3)]
    by_email = student_with_phone("+12025550900", sms_status=SmsStatus.DISABLED)[0]
    nowhere = student_with_phone("+12025550901", sms_status=SmsStatus.DISABLED, email="")[0]
    return [p.pk for p in [*texted, by_email, nowhere]]


def test_a_preview_counts_channels_reasons_segments_and_cost_and_records_nothing(
    advisor_api: APIClient, config: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=2)
    pool_numbers(1)
    body = "Registration opens Monday. " * 7  # 189 GSM-7 characters: 2 segments

    answer = advisor_api.post(PREVIEW, {"recipients": cohort(), "body": body}, format="json")

    assert answer.status_code == 200, answer.json()
    assert answer.json() == {
        "count": 5,
        "channels": {"sms": 2, "email": 2, "none": 1},
        "reasons": {"SMS_LIMIT_REACHED": 1, "NO_SMS_PHONE": 1, "NO_EMAIL": 1},
        "segments": 2,
        "total_segments": 4,
        "monthly_remaining_after": 0,
        "estimated_cost": "0.03",
        "last_leaves_at": None,
        "send_at": None,
        "when": "",
    }
    assert not Message.objects.exists()
    assert pool.monthly_usage_summary().sent == 0
    assert not SenderAssignment.objects.exists()


def test_the_preview_says_what_the_send_then_does(advisor_api: APIClient, config: Any) -> None:
    pool_numbers(1)
    request = {"recipients": cohort(), "body": "Hi {first_name}"}

    preview = advisor_api.post(PREVIEW, request, format="json").json()
    sent = advisor_api.post("/api/v1/messages/bulk/", request, format="json").json()

    assert preview["channels"] == sent["channels"]
    assert preview["count"] == sent["count"]


def test_without_a_free_number_the_preview_says_email_for_want_of_one(
    advisor_api: APIClient, config: Any
) -> None:
    answer = advisor_api.post(PREVIEW, {"recipients": cohort()[:1], "body": "Hi"}, format="json")

    assert answer.json()["reasons"] == {"NO_SENDER_NUMBER": 1}


def test_a_preview_is_refused_like_the_send_it_previews(
    config: Any, advisor_api: APIClient
) -> None:
    from tests.conftest import client_for

    faculty = factories.staff("faculty", user=factories.UserFactory(username="faculty"))
    refused = client_for(faculty.user).post(
        PREVIEW, {"recipients": cohort(), "body": "Hi"}, format="json"
    )
    unknown = advisor_api.post(PREVIEW, {"recipients": [999_999], "body": "Hi"}, format="json")

    assert refused.status_code == 403
    assert unknown.status_code == 400
    assert "999999" in unknown.json()["recipients"][0]


def test_a_preview_costs_the_same_queries_for_10_and_for_50_recipients(
    advisor: Any, config: Any
) -> None:
    from messaging import services

    pool_numbers(1)
    people = [student_with_phone(f"+1202556{i:04d}")[0].pk for i in range(50)]

    counts = []
    for size in (10, 50):
        with CaptureQueriesContext(connection) as queries:
            services.message_send_preview(sender=advisor, recipient_ids=people[:size], body="Hi")
        counts.append(len(queries.captured_queries))

    assert counts[0] == counts[1]


def test_a_preview_costs_the_same_queries_for_100_and_for_1000_recipients_through_the_api(
    advisor_api: APIClient, config: Any
) -> None:
    from tests.sending_support import students_with_phones

    pool_numbers(1)
    people = students_with_phones(1000)
    request = {"body": "Hi {first_name}, registration opens Monday."}

    counts = []
    for size in (100, 1000):
        with CaptureQueriesContext(connection) as queries:
            answer = advisor_api.post(
                PREVIEW, {**request, "recipients": people[:size]}, format="json"
            )
        assert answer.status_code == 200, answer.json()
        assert answer.json()["channels"] == {"sms": size}
        counts.append(len(queries.captured_queries))

    assert counts[0] == counts[1]
    assert Message.objects.count() == 0


def test_a_preview_costs_two_queries_per_batch_of_recipients(advisor: Any, config: Any) -> None:
    from messaging import services
    from tests.sending_support import students_with_phones

    pool_numbers(1)
    people = students_with_phones(1000)

    def queries(batch_size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            preview = services.message_send_preview(
                sender=advisor, recipient_ids=people, body="Hi {first_name}", batch_size=batch_size
            )
        assert preview.count == 1000
        return len(ctx.captured_queries)

    one_batch, four_batches = queries(1000), queries(250)

    # Per batch: the check that every recipient exists and their routing facts. The rest (the
    # send context, the month, the price) is read once per preview.
    assert four_batches - one_batch == 3 * 2


def test_a_preview_of_texts_scheduled_into_next_month_counts_that_months_room(
    advisor_api: APIClient, config: Any
) -> None:
    """Texts are counted in the month they leave: December's full count does not turn a cohort
    scheduled for January into emails, and January's room is what the preview reports."""
    import time_machine
    from django.utils import timezone as dj_timezone

    from sms_admin.models import MonthlyUsage

    zone = dj_timezone.get_current_timezone()
    with time_machine.travel(datetime(2026, 12, 31, 15, 0, tzinfo=zone), tick=False):
        sms_admin_services.configuration_update(actor=None, sms_message_limit=5)
        MonthlyUsage.objects.create(year=2026, month=12, sent=5)
        pool_numbers(1)
        people = cohort()

        now = advisor_api.post(PREVIEW, {"recipients": people, "body": "Hi"}, format="json")
        january = advisor_api.post(
            PREVIEW,
            {"recipients": people, "body": "Hi", "send_at": "2027-01-02T10:00:00"},
            format="json",
        )

    assert now.json()["reasons"]["SMS_LIMIT_REACHED"] == 3
    assert january.status_code == 200, january.json()
    assert january.json()["channels"] == {"sms": 3, "email": 1, "none": 1}
    assert january.json()["monthly_remaining_after"] == 2
