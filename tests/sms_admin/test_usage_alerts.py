"""Administrators' usage alerts (A2): an email when the month's count reaches 80% and 95% of the
limit, and when a staff member's first text finds no sender number; each once per month and
kind, sent by a task after the send commits, at no query's cost below the thresholds."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import enqueue, services
from people.models import Person
from sms_admin import alerts, pool
from sms_admin import services as sms_admin_services
from sms_admin.models import UsageAlert, UsageAlertKind
from tests import factories
from tests.sending_support import pool_numbers, student_with_phone

NY = ZoneInfo("America/New_York")

pytestmark = pytest.mark.usefixtures("config", "policy")


@pytest.fixture(autouse=True)
def no_texts_leave(monkeypatch: pytest.MonkeyPatch) -> None:
    """The texts are recorded but not handed to Twilio: only the alert task runs on commit."""
    for name in ("sms", "email", "sms_batches", "email_batches"):
        monkeypatch.setattr(enqueue, name, lambda *args, **kwargs: None)


@pytest.fixture
def admins(db: Any) -> list[Any]:
    """Two administrators with an address, and three people who get no alert."""
    factories.UserFactory(username="nomail", is_staff=True, email="")
    factories.UserFactory(username="gone", is_staff=True, is_active=False, email="gone@x.edu")
    factories.UserFactory(username="plain", is_staff=False, email="plain@x.edu")
    return [
        factories.UserFactory(username="ops", is_staff=True, email="ops@x.edu"),
        factories.UserFactory(username="root", is_superuser=True, email="root@x.edu"),
    ]


@pytest.fixture
def sender(advisor: Person) -> Iterator[Person]:
    pool_numbers(1)
    assert pool.sender_number_ensure(person=advisor) is not None
    yield advisor


_numbers = itertools.count(1000)


def send(sender: Person, capture: Any, n: int = 1) -> None:
    """`n` texts to new students, each committed (its callbacks run) on its own."""
    for _ in range(n):
        student, _ = student_with_phone(f"+1202555{next(_numbers):04d}")
        with capture(execute=True):
            services.message_send(sender=sender, recipient_id=student.pk, body="Hi")


# --- the thresholds, a pure table ------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "limit", "kinds"),
    [
        (7999, 10000, []),
        (8000, 10000, ["messages_80"]),
        (9499, 10000, ["messages_80"]),
        (9500, 10000, ["messages_80", "messages_95"]),
        (10000, 10000, ["messages_80", "messages_95"]),
        # 80% of 9 is 7.2: the 8th text reaches it; 95% is 8.55: the 9th.
        (7, 9, []),
        (8, 9, ["messages_80"]),
        (9, 9, ["messages_80", "messages_95"]),
        (0, 0, []),
        (0, 10, []),
    ],
)
def test_thresholds_reached(sent: int, limit: int, kinds: list[str]) -> None:
    assert alerts.thresholds_reached(sent=sent, limit=limit) == kinds


# --- through the send service ----------------------------------------------------------------


def test_administrators_are_emailed_once_at_80_and_once_at_95_percent(
    admins: list[Any], sender: Person, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=20)

    send(sender, django_capture_on_commit_callbacks, 15)
    assert mail.outbox == []

    send(sender, django_capture_on_commit_callbacks)  # the 16th text: 80% of 20
    assert [m.subject for m in mail.outbox] == ["Texting: 80% of this month's SMS limit is used"]
    assert sorted(mail.outbox[0].to) == ["ops@x.edu", "root@x.edu"]
    assert "16 of the 20 texts allowed" in mail.outbox[0].body

    send(sender, django_capture_on_commit_callbacks, 2)
    assert len(mail.outbox) == 1
    send(sender, django_capture_on_commit_callbacks)  # the 19th: 95%
    send(sender, django_capture_on_commit_callbacks)  # the 20th, and beyond by email
    send(sender, django_capture_on_commit_callbacks, 2)
    assert [m.subject for m in mail.outbox] == [
        "Texting: 80% of this month's SMS limit is used",
        "Texting: 95% of this month's SMS limit is used",
    ]
    assert UsageAlert.objects.filter(emailed_at__isnull=False).count() == 2


def test_a_cohort_that_jumps_past_both_thresholds_alerts_both(
    admins: list[Any], sender: Person, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=10)
    students = [student_with_phone(f"+1202555{2000 + i:04d}")[0].pk for i in range(12)]

    with django_capture_on_commit_callbacks(execute=True):
        services.message_send_bulk(sender=sender, recipient_ids=students, body="Hi all")

    assert sorted(m.subject for m in mail.outbox) == [
        "Texting: 80% of this month's SMS limit is used",
        "Texting: 95% of this month's SMS limit is used",
    ]


def test_a_unit_given_back_and_taken_again_does_not_alert_twice(
    admins: list[Any], sender: Person, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=10)
    send(sender, django_capture_on_commit_callbacks, 8)
    assert len(mail.outbox) == 1
    # A text Twilio never accepted gives its unit back: 7 of 10, then 8 again.
    pool.monthly_usage_release(at=timezone.now())
    alerts._known.clear()  # as in a worker process that has not seen the alert

    send(sender, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    assert UsageAlert.objects.count() == 1


def test_each_month_has_its_own_alerts(
    admins: list[Any], sender: Person, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.TIME_ZONE = "America/New_York"
    sms_admin_services.configuration_update(actor=None, sms_message_limit=5)
    with time_machine.travel(datetime(2026, 9, 30, 23, 50, tzinfo=NY), tick=False):
        send(sender, django_capture_on_commit_callbacks, 4)
    # At midnight in New York (04:00 UTC) October's count and alerts start afresh.
    with time_machine.travel(datetime(2026, 10, 1, 0, 0, tzinfo=NY), tick=False):
        send(sender, django_capture_on_commit_callbacks, 4)

    assert sorted(UsageAlert.objects.values_list("year", "month", "kind")) == [
        (2026, 9, "messages_80"),
        (2026, 10, "messages_80"),
    ]
    assert len(mail.outbox) == 2
    assert "in September 2026" in mail.outbox[0].body
    assert "in October 2026" in mail.outbox[1].body


def test_a_send_past_80_percent_costs_no_query_once_the_alert_is_known(
    admins: list[Any], sender: Person, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=100)
    send(sender, django_capture_on_commit_callbacks, 1)
    below, _ = student_with_phone("+12025553001")
    with CaptureQueriesContext(connection) as at_1:
        services.message_send(sender=sender, recipient_id=below.pk, body="Hi")

    pool.monthly_usage_take(count=80)  # 82 of 100
    send(sender, django_capture_on_commit_callbacks, 1)  # records the 80% alert
    assert len(mail.outbox) == 1
    past, _ = student_with_phone("+12025553002")
    with CaptureQueriesContext(connection) as at_84:
        services.message_send(sender=sender, recipient_id=past.pk, body="Hi")

    assert len(at_84.captured_queries) == len(at_1.captured_queries)


# --- the number limit (C7) -------------------------------------------------------------------


def test_a_staff_members_first_text_without_a_free_number_alerts_once(
    admins: list[Any], advisor: Person, django_capture_on_commit_callbacks: Any
) -> None:
    sms_admin_services.configuration_update(actor=None, sms_phone_number_limit=1)
    pool_numbers(2)
    holder = factories.staff(first_name="Holly", last_name="Holder")
    assert pool.sender_number_ensure(person=holder) is not None
    advisor.first_name, advisor.last_name = "Nora", "Numberless"
    advisor.save()
    student, _ = student_with_phone("+12025554001")

    with django_capture_on_commit_callbacks(execute=True):
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")

    assert text.channel == "email"
    assert [m.subject for m in mail.outbox] == [
        "Texting: a staff member could not get a sender number"
    ]
    body = mail.outbox[0].body
    assert body.startswith("Nora Numberless sent a first text and no sender number")
    assert "all 1 phone numbers the institution may use are assigned" in body

    other = factories.staff()
    alerts._known.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(sender=other, recipient_id=student.pk, body="Hi")
        services.message_send(sender=advisor, recipient_id=student.pk, body="Again")

    assert len(mail.outbox) == 1
    alert = UsageAlert.objects.get()
    assert (alert.kind, alert.person_id) == (UsageAlertKind.NUMBER_LIMIT, advisor.pk)


def test_an_exhausted_pool_under_the_limit_is_named_as_such(
    admins: list[Any], advisor: Person, django_capture_on_commit_callbacks: Any
) -> None:
    student, _ = student_with_phone("+12025554002")

    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")

    assert "every number of the sender pool is taken" in mail.outbox[0].body


# --- the email task --------------------------------------------------------------------------


def test_the_email_task_sends_an_alert_once(admins: list[Any]) -> None:
    alert = alerts.usage_alert_raise(year=2026, month=9, kind=UsageAlertKind.MESSAGES_80)
    assert alert is not None

    assert alerts.usage_alert_email(alert_id=alert.pk) is True
    assert alerts.usage_alert_email(alert_id=alert.pk) is False

    assert len(mail.outbox) == 1
    assert "was reached in September 2026" in mail.outbox[0].body


def test_a_failed_send_leaves_the_alert_for_the_sweep(
    admins: list[Any], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert = alerts.usage_alert_raise(year=2026, month=9, kind=UsageAlertKind.MESSAGES_95)
    assert alert is not None

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise OSError("mail server down")

    monkeypatch.setattr(alerts, "send_mail", refuse)
    with pytest.raises(OSError):
        alerts.usage_alert_email(alert_id=alert.pk)
    assert UsageAlert.objects.get(pk=alert.pk).emailed_at is None

    monkeypatch.undo()
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert alerts.usage_alerts_sweep() == 1
    assert len(mail.outbox) == 1
    assert UsageAlert.objects.get(pk=alert.pk).emailed_at is not None


def test_the_sweep_leaves_fresh_and_emailed_alerts_alone(admins: list[Any]) -> None:
    alerts.usage_alert_raise(year=2026, month=9, kind=UsageAlertKind.MESSAGES_80)

    assert alerts.usage_alerts_sweep() == 0

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert alerts.usage_alerts_sweep() == 1
        assert alerts.usage_alerts_sweep() == 0
    assert len(mail.outbox) == 1
