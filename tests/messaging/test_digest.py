"""The daily digest of unanswered replies (V5), on a fixed clock: conversations waiting longer
than `unanswered_reply_hours` business hours, weekends and nights not counted (a daylight-saving
weekend too), at most one email per staff member per day, 0 = off."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from messaging import digest, tasks
from messaging.models import UnansweredDigest
from people.models import Person
from sms_admin import services as sms_admin_services
from tests import factories
from tests.messaging.inbox_support import received, sent

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def institution_zone(settings: Any) -> None:
    settings.TIME_ZONE = "America/New_York"
    settings.PUBLIC_BASE_URL = "https://sms.example.edu"


@pytest.fixture
def alex() -> Person:
    return factories.staff(first_name="Alex", last_name="Advisor", email="alex@example.edu")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def text_at(when: datetime, staff: Person, person: Person, body: str = "question") -> None:
    with time_machine.travel(when, tick=False):
        received(person, staff, body)


def run_at(when: datetime) -> int:
    with time_machine.travel(when, tick=False):
        return int(tasks.send_unanswered_digests())


def test_a_conversation_is_listed_once_it_waited_24_business_hours(alex: Person) -> None:
    sam = factories.student(first_name="Sam", last_name="Rivera")
    # Thursday 09:00: Thursday gives 8 hours, Friday 9, Monday 9 (26 by Tuesday's opening).
    text_at(ny(2026, 9, 17, 9, 0), alex, sam)

    assert run_at(ny(2026, 9, 18, 8, 0)) == 0  # Friday: 8 hours
    assert run_at(ny(2026, 9, 21, 8, 0)) == 0  # Monday: 17 hours (the weekend counts nothing)
    assert run_at(ny(2026, 9, 22, 8, 0)) == 1  # Tuesday: 26 hours

    (email,) = mail.outbox
    assert email.to == ["alex@example.edu"]
    assert email.subject == "1 conversation waiting for your answer"
    assert "- Sam Rivera: 26 business hours, since 2026-09-17 09:00" in email.body
    assert f"https://sms.example.edu/people/{sam.pk}/#conversation" in email.body


def test_nothing_is_sent_on_a_weekend(alex: Person) -> None:
    text_at(ny(2026, 9, 7, 9, 0), alex, factories.student())

    assert run_at(ny(2026, 9, 19, 8, 0)) == 0  # Saturday
    assert run_at(ny(2026, 9, 20, 8, 0)) == 0  # Sunday
    assert mail.outbox == []


def test_a_daylight_saving_weekend_counts_business_hours_on_the_wall_clock(alex: Person) -> None:
    # Friday 2026-03-06 09:00 EST; clocks spring forward on Sunday 2026-03-08.
    text_at(ny(2026, 3, 6, 9, 0), alex, factories.student(first_name="Dee", last_name="Ess"))

    assert run_at(ny(2026, 3, 10, 8, 0)) == 0  # Tuesday: 8 + 9 = 17 hours
    assert run_at(ny(2026, 3, 11, 8, 0)) == 1  # Wednesday: 26 hours

    assert "- Dee Ess: 26 business hours, since 2026-03-06 09:00" in mail.outbox[0].body


def test_at_most_one_digest_per_staff_member_per_day(alex: Person) -> None:
    text_at(ny(2026, 9, 7, 9, 0), alex, factories.student())

    assert run_at(ny(2026, 9, 14, 8, 0)) == 1
    # A second beat process, or the task retried, the same day.
    assert run_at(ny(2026, 9, 14, 8, 0)) == 0
    assert run_at(ny(2026, 9, 14, 16, 0)) == 0
    assert run_at(ny(2026, 9, 15, 8, 0)) == 1

    assert len(mail.outbox) == 2
    assert UnansweredDigest.objects.filter(staff=alex).count() == 2


def test_only_unanswered_conversations_of_that_staff_member(alex: Person) -> None:
    blair = factories.staff(email="blair@example.edu")
    answered, waiting, blairs = (factories.student() for _ in range(3))
    text_at(ny(2026, 9, 7, 9, 0), alex, answered)
    with time_machine.travel(ny(2026, 9, 7, 10, 0), tick=False):
        sent(alex, answered, "answer")
    text_at(ny(2026, 9, 7, 9, 0), alex, waiting, "still waiting")
    text_at(ny(2026, 9, 11, 16, 0), blair, blairs)  # 1 hour so far for Blair

    assert run_at(ny(2026, 9, 14, 8, 0)) == 1

    (email,) = mail.outbox
    assert email.to == ["alex@example.edu"]
    assert waiting.full_name in email.body and answered.full_name not in email.body


def test_zero_hours_turns_the_digest_off(alex: Person) -> None:
    sms_admin_services.configuration_update(actor=None, unanswered_reply_hours=0)
    text_at(ny(2026, 9, 7, 9, 0), alex, factories.student())

    assert run_at(ny(2026, 9, 14, 8, 0)) == 0
    assert not UnansweredDigest.objects.exists()


def test_a_staff_member_without_an_email_is_skipped(alex: Person) -> None:
    alex.email = ""
    alex.save()
    text_at(ny(2026, 9, 7, 9, 0), alex, factories.student())

    assert run_at(ny(2026, 9, 14, 8, 0)) == 0


def test_a_lower_threshold_is_honoured(alex: Person) -> None:
    sms_admin_services.configuration_update(actor=None, unanswered_reply_hours=2)
    text_at(ny(2026, 9, 14, 9, 0), alex, factories.student())

    waiting = digest.waiting_for(alex, now=ny(2026, 9, 14, 11, 30), zone=NY, hours=2)

    assert [round(w.business_hours, 1) for w in waiting] == [2.5]
