"""The monthly counter never goes below zero: giving back a unit nobody took changes nothing,
and the database refuses a negative count whatever the code does."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from sms_admin import pool
from sms_admin.models import MonthlyUsage

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 12, 1, 15, 0, tzinfo=ZoneInfo("UTC"))


def sent_in(at: datetime) -> int | None:
    year, month = pool.month_key(at)
    row = MonthlyUsage.objects.filter(year=year, month=month).first()
    return row.sent if row else None


def test_giving_back_a_unit_when_the_month_counter_is_at_zero_leaves_it_at_zero() -> None:
    assert pool.monthly_usage_reserve(at=MOMENT, limit=5)
    pool.monthly_usage_release(at=MOMENT)
    assert sent_in(MOMENT) == 0

    pool.monthly_usage_release(at=MOMENT)

    assert sent_in(MOMENT) == 0
    assert pool.monthly_usage_summary(MOMENT, limit=5).remaining == 5


def test_giving_back_more_units_than_were_taken_stops_at_zero() -> None:
    assert pool.monthly_usage_reserve_many(count=2, at=MOMENT, limit=5) == 2

    for _ in range(4):
        pool.monthly_usage_release(at=MOMENT)

    assert sent_in(MOMENT) == 0


def test_giving_back_a_unit_in_a_month_with_no_texts_records_nothing() -> None:
    pool.monthly_usage_release(at=MOMENT)

    assert sent_in(MOMENT) is None


def test_the_database_refuses_a_negative_month_counter() -> None:
    year, month = pool.month_key(MOMENT)
    row = MonthlyUsage.objects.create(year=year, month=month, sent=0)

    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyUsage.objects.filter(pk=row.pk).update(sent=F("sent") - 1)

    row.refresh_from_db()
    assert row.sent == 0
