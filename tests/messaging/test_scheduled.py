"""Scheduled texts: `send_at` on a send and a cohort, refused outside one minute to 90 days
ahead, recorded `scheduled` without a unit of the month, released when due through the send's
own decision (routed then, counted in the month it leaves), and cancelled by its sender or an
administrator. A fixed clock throughout."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from messaging import enqueue, services
from messaging.models import Channel, Message, Status
from people import services as people_services
from people.models import Person, SmsStatus, StatusCause
from sms_admin.models import MonthlyUsage
from tests import factories
from tests.conftest import client_for
from tests.sending_support import pool_numbers, student_with_phone

pytestmark = pytest.mark.usefixtures("config", "policy")

NEW_YORK = ZoneInfo("America/New_York")
# Tuesday 2026-12-01, 10:00 in New York (15:00 UTC): outside any quiet hours.
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(settings: Any) -> Iterator[time_machine.Coordinates]:
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """What would be handed to the worker (texts and emails), in order."""
    seen: list[tuple[str, int]] = []

    def texts(ids: Any, *, after_commit: bool = True) -> None:
        seen.extend(("sms", pk) for pk in ids)

    def one_text(pk: int, *, after_commit: bool = True) -> None:
        seen.append(("sms", pk))

    def emails(ids: Any, *, after_commit: bool = True) -> None:
        seen.extend(("email", pk) for pk in ids)

    def one_email(pk: int, *, after_commit: bool = True) -> None:
        seen.append(("email", pk))

    monkeypatch.setattr(enqueue, "sms_batches", texts)
    monkeypatch.setattr(enqueue, "sms", one_text)
    monkeypatch.setattr(enqueue, "email_batches", emails)
    monkeypatch.setattr(enqueue, "email", one_email)
    return seen


def _month_count(year: int, month: int) -> int:
    row = MonthlyUsage.objects.filter(year=year, month=month).first()
    return row.sent if row else 0


# --- recording ----------------------------------------------------------------------------


def test_a_text_with_send_at_is_recorded_scheduled_without_a_number_or_a_unit(
    advisor: Person,
    advisor_api: APIClient,
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()

    with django_capture_on_commit_callbacks(execute=True):
        response = advisor_api.post(
            "/api/v1/messages/",
            {"recipient": student.pk, "body": "Hi", "send_at": "2026-12-02T09:00:00-05:00"},
            format="json",
        )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "scheduled"
    assert datetime.fromisoformat(body["send_at"]) == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert body["from_number"] == ""
    assert _month_count(2026, 12) == 0
    assert published == []


def test_send_at_without_an_offset_is_read_in_the_institution_time_zone(
    advisor: Person, advisor_api: APIClient, published: list[Any]
) -> None:
    student, _ = student_with_phone()

    response = advisor_api.post(
        "/api/v1/messages/",
        {"recipient": student.pk, "body": "Hi", "send_at": "2026-12-02T09:00"},
        format="json",
    )

    assert response.status_code == 201, response.content
    text = Message.objects.get()
    assert text.send_at == datetime(2026, 12, 2, 9, 0, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("send_at", "words"),
    [
        ("2026-12-01T09:00:00-05:00", "in the past"),
        ("2026-12-01T15:00:30Z", "less than a minute"),
        ("2027-03-02T15:00:00Z", "90 days"),
        ("next tuesday", "format"),
    ],
    ids=["past", "under-a-minute", "over-90-days", "unparseable"],
)
@pytest.mark.parametrize("path", ["/api/v1/messages/", "/api/v1/messages/bulk/"])
def test_a_bad_send_at_is_refused_naming_it_and_nothing_is_recorded(
    advisor: Person, advisor_api: APIClient, path: str, send_at: str, words: str
) -> None:
    student, _ = student_with_phone()
    who = {"recipient": student.pk} if path.endswith("messages/") else {"recipients": [student.pk]}

    response = advisor_api.post(path, {**who, "body": "Hi", "send_at": send_at}, format="json")

    assert response.status_code == 400, response.content
    assert words in " ".join(response.json()["send_at"])
    assert not Message.objects.exists()


def test_exactly_one_minute_and_exactly_90_days_ahead_are_accepted(advisor: Person) -> None:
    student, _ = student_with_phone()
    for ahead in (timedelta(minutes=1), timedelta(days=90)):
        text = services.message_send(
            sender=advisor, recipient_id=student.pk, body="Hi", send_at=NOW + ahead
        )
        assert text.status == Status.SCHEDULED


def test_a_scheduled_cohort_records_each_merged_text_scheduled(
    advisor: Person, advisor_api: APIClient, published: list[Any]
) -> None:
    ana, _ = student_with_phone("+12025550101", first_name="Ana")
    bo, _ = student_with_phone("+12025550102", first_name="Bo")

    response = advisor_api.post(
        "/api/v1/messages/bulk/",
        {
            "recipients": [ana.pk, bo.pk],
            "body": "Hi {first_name}",
            "send_at": "2026-12-03T10:00:00-05:00",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    texts = Message.objects.order_by("pk")
    assert [(t.status, t.body) for t in texts] == [
        (Status.SCHEDULED, "Hi Ana"),
        (Status.SCHEDULED, "Hi Bo"),
    ]
    assert published == []


# --- release ------------------------------------------------------------------------------


def test_nothing_is_released_before_send_at(
    advisor: Person, clock: time_machine.Coordinates, published: list[Any]
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    text = services.message_send(
        sender=advisor, recipient_id=student.pk, body="Hi", send_at=NOW + timedelta(hours=1)
    )
    clock.move_to(NOW + timedelta(minutes=59, seconds=59))

    assert services.messages_release_all_due() == 0

    text.refresh_from_db()
    assert text.status == Status.SCHEDULED


def test_a_due_text_is_routed_on_the_data_of_that_moment_and_counted_in_its_month(
    advisor: Person,
    clock: time_machine.Coordinates,
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    pool_numbers(1)
    student, phone = student_with_phone("+12025550123", email="ana@example.edu")
    # Scheduled in December for January 2nd.
    send_at = datetime(2027, 1, 2, 9, 0, tzinfo=NEW_YORK)
    text = services.message_send(
        sender=advisor, recipient_id=student.pk, body="Hi", send_at=send_at
    )
    # Since then the student opted out of texts: the text goes by email.
    people_services.phone_status_set(
        phone=phone, status=SmsStatus.DISABLED, cause=StatusCause.OPT_OUT
    )
    other, _ = student_with_phone("+12025550124")
    second = services.message_send(
        sender=advisor, recipient_id=other.pk, body="Hello", send_at=send_at
    )
    clock.move_to(send_at + timedelta(seconds=5))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.messages_release_all_due() == 2

    text.refresh_from_db()
    second.refresh_from_db()
    assert (text.status, text.channel, text.destination) == (
        Status.QUEUED,
        Channel.EMAIL,
        "ana@example.edu",
    )
    assert text.failure_reason == "NO_SMS_PHONE"
    assert (second.status, second.channel, second.destination) == (
        Status.QUEUED,
        Channel.SMS,
        "+12025550124",
    )
    assert second.from_number == "+12015550100"
    assert second.segments == 1
    # Counted in the month it leaves (January), not the month it was scheduled in.
    assert (_month_count(2026, 12), _month_count(2027, 1)) == (0, 1)
    assert second.created_at == send_at + timedelta(seconds=5)
    assert second.send_at == send_at
    assert published == [("sms", second.pk), ("email", text.pk)]


def test_a_released_text_is_not_released_again(
    advisor: Person, clock: time_machine.Coordinates, published: list[Any]
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    services.message_send(
        sender=advisor, recipient_id=student.pk, body="Hi", send_at=NOW + timedelta(minutes=5)
    )
    clock.move_to(NOW + timedelta(minutes=6))

    assert services.messages_release_all_due() == 1
    assert services.messages_release_all_due() == 0
    assert _month_count(2026, 12) == 1


def test_a_text_whose_sender_lost_the_permitted_role_is_cancelled_when_due(
    advisor: Person, clock: time_machine.Coordinates, published: list[Any]
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    text = services.message_send(
        sender=advisor, recipient_id=student.pk, body="Hi", send_at=NOW + timedelta(minutes=5)
    )
    advisor.roles.clear()
    clock.move_to(NOW + timedelta(minutes=6))

    services.messages_release_all_due()

    text.refresh_from_db()
    assert text.status == Status.CANCELED
    assert published == []
    assert _month_count(2026, 12) == 0


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite takes at most 999 parameters a statement, so Django splits the batch's "
    "UPDATE; the query budget is PostgreSQL's (set DATABASE_URL=postgres://...)",
)
@pytest.mark.parametrize("count", [10, 100])
def test_releasing_due_texts_costs_the_same_queries_for_10_and_100(
    advisor: Person,
    clock: time_machine.Coordinates,
    published: list[Any],
    count: int,
    request: pytest.FixtureRequest,
) -> None:
    pool_numbers(1)
    people = [student_with_phone(f"+1202555{i:04d}")[0] for i in range(count)]
    services.message_send_bulk(
        sender=advisor,
        recipient_ids=[p.pk for p in people],
        body="Hi",
        send_at=NOW + timedelta(minutes=5),
    )
    # A first text of the month and a held number: the steady state of a release.
    services.message_send(sender=advisor, recipient_id=people[0].pk, body="warm")
    clock.move_to(NOW + timedelta(minutes=6))

    with CaptureQueriesContext(connection) as ctx:
        assert services.messages_release_due() == count

    queries = [
        q["sql"]
        for q in ctx.captured_queries
        if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))
    ]
    # Lock the due rows, read the recipients' routing facts, the senders, the send context,
    # take the month's units (ensure its row, lock it, add), write the decisions: the same for
    # 10 and 100 texts.
    assert len(queries) == 8, queries
    assert Message.objects.filter(status=Status.QUEUED, channel=Channel.SMS).count() == count + 1


def test_releasing_three_batches_costs_three_times_the_queries_of_one(
    advisor: Person, clock: time_machine.Coordinates, published: list[Any]
) -> None:
    from tests.sending_support import students_with_phones

    pool_numbers(1)
    people = students_with_phones(75)
    for ids in (people[:25], people[25:]):
        services.message_send_bulk(
            sender=advisor,
            recipient_ids=ids,
            body="Hi {first_name}",
            send_at=NOW + timedelta(minutes=5),
        )
    # A first text of the month and a held number: the steady state of a release.
    services.message_send(sender=advisor, recipient_id=people[0], body="warm")
    clock.move_to(NOW + timedelta(minutes=6))

    def statements(batch_size: int) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            released = services.messages_release_all_due(batch_size=batch_size)
        sql = [
            q["sql"]
            for q in ctx.captured_queries
            if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))
        ]
        return released, len(sql)

    # The first cohort's 25 in one batch (short of 30: the loop stops), then the second's 50 in
    # three (20, 20, 10): three times the statements of one.
    Message.objects.filter(recipient_id__in=people[25:]).update(send_at=NOW + timedelta(hours=1))
    one = statements(30)
    clock.move_to(NOW + timedelta(hours=2))
    three = statements(20)

    assert (one[0], three[0]) == (25, 50)
    assert three[1] == 3 * one[1]
    assert Message.objects.filter(status=Status.QUEUED, channel=Channel.SMS).count() == 76


# --- cancel -------------------------------------------------------------------------------


def test_the_sender_cancels_a_scheduled_text_and_it_never_leaves(
    advisor: Person,
    advisor_api: APIClient,
    clock: time_machine.Coordinates,
    published: list[Any],
) -> None:
    student, _ = student_with_phone()
    text = services.message_send(
        sender=advisor, recipient_id=student.pk, body="Hi", send_at=NOW + timedelta(minutes=5)
    )

    response = advisor_api.post(f"/api/v1/messages/{text.pk}/cancel/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "canceled"
    again = advisor_api.post(f"/api/v1/messages/{text.pk}/cancel/")
    assert again.status_code == 409
    assert "not scheduled" in again.json()["detail"]
    clock.move_to(NOW + timedelta(minutes=6))
    assert services.messages_release_all_due() == 0
    assert published == []


def test_a_released_text_cannot_be_cancelled(
    advisor: Person,
    advisor_api: APIClient,
    clock: time_machine.Coordinates,
    published: list[Any],
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    text = services.message_send(
        sender=advisor, recipient_id=student.pk, body="Hi", send_at=NOW + timedelta(minutes=5)
    )
    clock.move_to(NOW + timedelta(minutes=6))
    services.messages_release_all_due()

    response = advisor_api.post(f"/api/v1/messages/{text.pk}/cancel/")

    assert response.status_code == 409
    assert "queued" in response.json()["detail"]


def test_another_staff_member_may_not_cancel_and_an_unknown_id_is_404(
    advisor: Person, admin_user: Any
) -> None:
    student, _ = student_with_phone()
    text = services.message_send(
        sender=advisor, recipient_id=student.pk, body="Hi", send_at=NOW + timedelta(minutes=5)
    )
    colleague = factories.staff(user=factories.UserFactory(username="colleague"))

    refused = client_for(colleague.user).post(f"/api/v1/messages/{text.pk}/cancel/")
    missing = client_for(admin_user).post(f"/api/v1/messages/{text.pk + 999}/cancel/")
    by_admin = client_for(admin_user).post(f"/api/v1/messages/{text.pk}/cancel/")

    assert refused.status_code == 403
    assert "sender or an administrator" in refused.json()["detail"]
    assert missing.status_code == 404
    assert by_admin.status_code == 200
    text.refresh_from_db()
    assert text.status == Status.CANCELED


# --- the person page ----------------------------------------------------------------------


def test_the_person_page_shows_when_a_scheduled_text_goes_and_its_sender_cancels_it(
    advisor: Person, published: list[Any]
) -> None:
    from django.test import Client
    from django.urls import reverse

    student, _ = student_with_phone()
    text = services.message_send(
        sender=advisor,
        recipient_id=student.pk,
        body="See you tomorrow",
        send_at=datetime(2026, 12, 2, 9, 30, tzinfo=NEW_YORK),
    )
    browser = Client()
    browser.force_login(advisor.user)

    page = browser.get(reverse("person-detail", args=[student.pk])).content.decode()
    assert "will go at 2026-12-02 09:30" in page
    cancel_url = reverse("person-message-cancel", args=[student.pk, text.pk])
    assert f'action="{cancel_url}"' in page

    response = browser.post(cancel_url, follow=True)

    assert response.status_code == 200
    assert "Cancelled: the scheduled text will not be sent." in response.content.decode()
    text.refresh_from_db()
    assert text.status == Status.CANCELED
    again = browser.post(cancel_url, follow=True).content.decode()
    assert "or one still waiting for its turn to leave, can be cancelled" in again
    assert f'action="{cancel_url}"' not in again


def test_a_colleague_sees_no_cancel_button_and_cannot_cancel(
    advisor: Person, published: list[Any]
) -> None:
    from django.test import Client
    from django.urls import reverse

    student, _ = student_with_phone()
    text = services.message_send(
        sender=advisor, recipient_id=student.pk, body="Hi", send_at=NOW + timedelta(hours=2)
    )
    colleague = factories.staff(user=factories.UserFactory(username="colleague"))
    browser = Client()
    browser.force_login(colleague.user)
    cancel_url = reverse("person-message-cancel", args=[student.pk, text.pk])

    assert (
        f'action="{cancel_url}"'
        not in browser.get(reverse("person-detail", args=[student.pk])).content.decode()
    )
    assert browser.post(cancel_url).status_code == 403
    text.refresh_from_db()
    assert text.status == Status.SCHEDULED


def test_a_repeated_scheduled_send_with_the_same_idempotency_key_records_one_text(
    advisor: Person, advisor_api: APIClient, published: list[Any]
) -> None:
    student, _ = student_with_phone()
    data = {"recipient": student.pk, "body": "Hi", "send_at": "2026-12-02T09:00:00-05:00"}

    first = advisor_api.post("/api/v1/messages/", data, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = advisor_api.post("/api/v1/messages/", data, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Message.objects.count() == 1


# --- cancelling a cohort -----------------------------------------------------------------


def test_a_scheduled_cohort_is_cancelled_whole_once_and_its_progress_says_when_it_was_due(
    advisor: Person, advisor_api: APIClient, published: list[Any]
) -> None:
    ana, _ = student_with_phone("+12025550101", first_name="Ana")
    bo, _ = student_with_phone("+12025550102", first_name="Bo")
    sent = advisor_api.post(
        "/api/v1/messages/bulk/",
        {"recipients": [ana.pk, bo.pk], "body": "Hi", "send_at": "2026-12-03T10:00:00-05:00"},
        format="json",
    ).json()
    cohort = f"/api/v1/cohorts/{sent['id']}/"
    assert advisor_api.get(cohort).json()["send_at"] == "2026-12-03T10:00:00-05:00"

    canceled = advisor_api.post(f"{cohort}cancel/")
    again = advisor_api.post(f"{cohort}cancel/")

    assert (canceled.status_code, canceled.json()) == (200, {"id": sent["id"], "canceled": 2})
    assert set(Message.objects.values_list("status", flat=True)) == {Status.CANCELED}
    assert again.status_code == 409
    assert "None of this cohort's texts is scheduled or waiting any more" in again.json()["detail"]
    assert advisor_api.get(cohort).json()["send_at"] is None


def test_only_the_cohorts_sender_or_an_administrator_may_cancel_it(
    advisor: Person, advisor_api: APIClient, published: list[Any]
) -> None:
    ana, _ = student_with_phone("+12025550101")
    sent = advisor_api.post(
        "/api/v1/messages/bulk/",
        {"recipients": [ana.pk], "body": "Hi", "send_at": "2026-12-03T10:00:00-05:00"},
        format="json",
    ).json()
    colleague = factories.staff(user=factories.UserFactory(username="colleague"))

    refused = client_for(colleague.user).post(f"/api/v1/cohorts/{sent['id']}/cancel/")
    missing = advisor_api.post("/api/v1/cohorts/999999/cancel/")

    assert refused.status_code == 403
    assert missing.status_code == 404
    assert Message.objects.get().status == Status.SCHEDULED
