"""The monthly SMS limit counts per calendar month of the institution's time zone (C6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from messaging import services
from sms_admin import pool
from sms_admin.models import MonthlyUsage
from tests.sending_support import pool_numbers, student_with_phone
from twilio_bridge.sandbox import Sandbox

NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


@pytest.fixture(autouse=True)
def new_york(settings: Any) -> None:
    settings.TIME_ZONE = "America/New_York"


def test_a_text_at_23_59_local_on_the_31st_counts_in_that_month() -> None:
    # 2027-01-01 04:59 UTC is December 31st, 23:59 in New York (UTC-5).
    assert pool.month_key(datetime(2026, 12, 31, 23, 59, tzinfo=NEW_YORK)) == (2026, 12)
    assert pool.month_key(datetime(2027, 1, 1, 4, 59, tzinfo=UTC)) == (2026, 12)


def test_a_text_at_midnight_local_on_the_1st_counts_in_the_next_month() -> None:
    assert pool.month_key(datetime(2027, 1, 1, 0, 0, tzinfo=NEW_YORK)) == (2027, 1)
    assert pool.month_key(datetime(2027, 1, 1, 5, 0, tzinfo=UTC)) == (2027, 1)


def test_the_month_follows_the_zone_across_a_daylight_saving_change() -> None:
    # 2026-11-01 is the fall-back day in New York (UTC-4 until 02:00, UTC-5 after); the local
    # month still starts at local midnight: 2026-11-01 00:00 EDT = 04:00 UTC.
    assert pool.month_key(datetime(2026, 11, 1, 3, 59, tzinfo=UTC)) == (2026, 10)
    assert pool.month_key(datetime(2026, 11, 1, 4, 0, tzinfo=UTC)) == (2026, 11)
    # 2026-03-08 spring-forward day is inside March whatever the hour.
    assert pool.month_key(datetime(2026, 3, 8, 7, 30, tzinfo=UTC)) == (2026, 3)
    # April 1st 00:00 EDT (UTC-4) is 04:00 UTC, an hour earlier than in winter.
    assert pool.month_key(datetime(2026, 4, 1, 3, 59, tzinfo=UTC)) == (2026, 3)
    assert pool.month_key(datetime(2026, 4, 1, 4, 0, tzinfo=UTC)) == (2026, 4)


@pytest.mark.usefixtures("config", "policy")
@pytest.mark.parametrize(
    ("utc_moment", "month"),
    [
        (datetime(2027, 1, 1, 4, 59, tzinfo=UTC), (2026, 12)),
        (datetime(2027, 1, 1, 5, 0, tzinfo=UTC), (2027, 1)),
    ],
)
def test_a_text_sent_around_new_year_is_counted_in_the_local_month(
    advisor: Any,
    sandbox: Sandbox,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
    utc_moment: datetime,
    month: tuple[int, int],
) -> None:
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: utc_moment)
    pool_numbers(1)
    student, _ = student_with_phone()

    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(sender=advisor, recipient_id=student.pk, body="Happy new year")

    assert list(MonthlyUsage.objects.values_list("year", "month", "sent")) == [(*month, 1)]


@pytest.mark.usefixtures("config", "policy")
def test_a_refused_text_gives_its_unit_back_to_the_month_it_was_counted_in(
    advisor: Any,
    sandbox: Sandbox,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Queued at 23:59 on December 31st, refused by Twilio after midnight: December gets the
    unit back, January is untouched."""
    from django.utils import timezone

    pool_numbers(1)
    student, _ = student_with_phone("+15005550001")
    monkeypatch.setattr(timezone, "now", lambda: datetime(2027, 1, 1, 4, 59, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
    assert MonthlyUsage.objects.get(year=2026, month=12).sent == 1
    monkeypatch.setattr(timezone, "now", lambda: datetime(2027, 1, 1, 5, 1, tzinfo=UTC))

    for callback in queued:
        callback()

    assert MonthlyUsage.objects.get(year=2026, month=12).sent == 0
    assert not MonthlyUsage.objects.filter(year=2027, month=1, sent__gt=0).exists()


@pytest.mark.usefixtures("config")
def test_month_rows_are_created_lazily_once_per_month() -> None:
    at = datetime(2026, 6, 15, 12, 0, tzinfo=NEW_YORK)
    assert MonthlyUsage.objects.count() == 0

    assert pool.monthly_usage_reserve(at=at, limit=2)
    assert pool.monthly_usage_reserve(at=at, limit=2)
    assert not pool.monthly_usage_reserve(at=at, limit=2)

    assert list(MonthlyUsage.objects.values_list("year", "month", "sent")) == [(2026, 6, 2)]
