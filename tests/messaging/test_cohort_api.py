"""Cohort sends through the API (K2): `messages/bulk/` answers the cohort's id, its messages
point at it (their email fallbacks too), and `cohorts/{id}/` counts them by status and channel."""

from __future__ import annotations

from typing import Any

import pytest

from messaging import services
from messaging.models import Channel, Cohort, FailureReason, Message, Status
from tests import factories
from tests.sending_support import pool_numbers

pytestmark = pytest.mark.django_db


def test_a_bulk_send_answers_its_cohort_and_the_cohort_counts_its_messages(
    advisor_api: Any, advisor: Any, config: Any, cell: Any
) -> None:
    pool_numbers(1)
    texted = factories.student(first_name="Ana")
    factories.PhoneFactory(person=texted, phone_type=cell)
    emailed = factories.student(email="e@example.edu")
    answer = advisor_api.post(
        "/api/v1/messages/bulk/",
        {"recipients": [texted.pk, emailed.pk], "body": "Hi {first_name}"},
        format="json",
    ).json()
    cohort = Cohort.objects.get(pk=answer["id"])
    assert (cohort.sender, cohort.count, cohort.body) == (advisor, 2, "Hi {first_name}")
    assert sorted(Message.objects.filter(cohort=cohort).values_list("pk", flat=True)) == sorted(
        answer["message_ids"]
    )
    progress = advisor_api.get(f"/api/v1/cohorts/{cohort.pk}/").json()
    assert progress["count"] == 2 and progress["send_at"] is None
    assert progress["channels"] == {"sms": 1, "email": 1}
    assert progress["statuses"] == {"queued": 2}
    assert progress["sender"] == advisor.pk


def test_an_unknown_cohort_is_a_404_with_a_message(advisor_api: Any, config: Any) -> None:
    response = advisor_api.get("/api/v1/cohorts/999999/")
    assert response.status_code == 404
    assert "no cohort with id 999999" in response.json()["detail"]


def test_a_failed_texts_email_fallback_stays_in_its_cohort(
    advisor: Any, config: Any, cell: Any
) -> None:
    pool_numbers(1)
    person = factories.student(email="s@example.edu")
    factories.PhoneFactory(person=person, phone_type=cell)
    result = services.message_send_bulk(sender=advisor, recipient_ids=[person.pk], body="Hi")
    text = Message.objects.get(pk=result.message_ids[0])
    fallback = services.message_email_fallback(
        message_id=text.pk, reason=FailureReason.TWILIO_UNREACHABLE
    )
    assert fallback.cohort_id == result.cohort_id
    assert fallback.channel == Channel.EMAIL and fallback.status == Status.QUEUED


def test_a_retry_of_a_cohort_text_stays_in_its_cohort(advisor: Any, config: Any, cell: Any) -> None:
    pool_numbers(1)
    person = factories.student()
    factories.PhoneFactory(person=person, phone_type=cell)
    result = services.message_send_bulk(sender=advisor, recipient_ids=[person.pk], body="Hi")
    retry = services.message_sms_retry_schedule(
        message_id=result.message_ids[0], reason=FailureReason.TWILIO_UNREACHABLE
    )
    assert retry is not None and retry.cohort_id == result.cohort_id
