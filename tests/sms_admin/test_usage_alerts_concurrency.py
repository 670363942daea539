"""Racing alerts on PostgreSQL (A2): senders that reach a threshold at the same moment, in
their own transactions, email administrators once; the unique month and kind decides."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.db import transaction

from messaging import enqueue, services
from people.models import Person
from sms_admin import alerts, pool
from sms_admin import services as sms_admin_services
from sms_admin.models import MonthlyUsage, UsageAlert, UsageAlertKind
from tests import factories
from tests.parallel import postgres_only, run_at_once
from tests.sending_support import pool_numbers, student_with_phone

pytestmark = postgres_only

RACERS = 8


def _admins() -> None:
    factories.UserFactory(username="ops", is_staff=True, email="ops@x.edu")


def test_racing_inserts_of_one_months_alert_email_once() -> None:
    _admins()

    def raise_alert(i: int) -> bool:
        with transaction.atomic():
            got = alerts.usage_alert_raise(year=2026, month=9, kind=UsageAlertKind.MESSAGES_80)
        return got is not None

    created = run_at_once(raise_alert, RACERS)

    assert sorted(created) == [False] * (RACERS - 1) + [True]
    assert UsageAlert.objects.count() == 1
    assert [m.subject for m in mail.outbox] == [
        "Texting: 80% of the SMS limit was used in September 2026"
    ]


def test_senders_crossing_80_percent_together_email_once(config: Any, monkeypatch: Any) -> None:
    """Eight advisors' texts at once take the month from 7 to 15 of 10: each sees its own count
    (the counter's UPDATE ... RETURNING), both thresholds are crossed, each emailed once, even
    though no process remembers the alerts (each racer forgets what it saw)."""
    for name in ("sms", "email"):
        monkeypatch.setattr(enqueue, name, lambda *args, **kwargs: None)
    monkeypatch.setattr(alerts, "_known", _Forgetful())
    _admins()
    sms_admin_services.configuration_update(
        actor=None, sms_message_limit=10, sms_phone_number_limit=RACERS
    )
    year, month = pool.month_key()
    MonthlyUsage.objects.create(year=year, month=month, sent=7)
    pool_numbers(RACERS)
    senders: list[Person] = []
    for _ in range(RACERS):
        person = factories.staff()
        assert pool.sender_number_ensure(person=person) is not None
        senders.append(person)
    students = [student_with_phone(f"+1202555{3000 + i:04d}")[0] for i in range(RACERS)]

    def text(i: int) -> str:
        return services.message_send(
            sender=senders[i], recipient_id=students[i].pk, body="Hi"
        ).channel

    channels = run_at_once(text, RACERS)

    assert sorted(channels).count("sms") == 3
    assert MonthlyUsage.objects.get(year=year, month=month).sent == 10
    assert sorted(m.subject for m in mail.outbox) == [
        "Texting: 80% of this month's SMS limit is used",
        "Texting: 95% of this month's SMS limit is used",
    ]
    assert UsageAlert.objects.count() == 2


class _Forgetful(set[tuple[int, int, str]]):
    """A process memory of alerts that never remembers: every racer asks the database."""

    def add(self, item: tuple[int, int, str]) -> None:
        return None
