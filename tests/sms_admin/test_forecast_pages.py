"""The month's forecast (A1) where administrators and integrations read it: `GET sms-usage/`
and the Twilio tab, with a fixed clock, on both sides of a month boundary of the institution's
time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from sms_admin import services as sms_admin_services
from sms_admin.models import MonthlyUsage

NY = ZoneInfo("America/New_York")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def new_york(settings: Any) -> None:
    settings.TIME_ZONE = "America/New_York"


def usage(year: int, month: int, sent: int) -> None:
    MonthlyUsage.objects.create(year=year, month=month, sent=sent)


def test_sms_usage_forecasts_the_month_and_the_day_the_limit_is_reached(
    admin_api: APIClient,
) -> None:
    usage(2026, 9, 6000)
    with time_machine.travel(datetime(2026, 9, 16, tzinfo=NY), tick=False):
        body = admin_api.get("/api/v1/sms-usage/").json()

    assert body == {
        "month": "2026-09",
        "limit": 10000,
        "sent": 6000,
        "remaining": 4000,
        "forecast_month_end": 12000,
        "limit_reached_on": "2026-09-26",
    }


def test_sms_usage_says_null_when_the_pace_stays_under_the_limit(admin_api: APIClient) -> None:
    usage(2026, 9, 3000)
    with time_machine.travel(datetime(2026, 9, 16, tzinfo=NY), tick=False):
        body = admin_api.get("/api/v1/sms-usage/").json()

    assert body["forecast_month_end"] == 6000
    assert body["limit_reached_on"] is None


def test_late_on_the_months_last_evening_the_month_is_still_the_institutions(
    admin_api: APIClient,
) -> None:
    """22:00 on September 30 in New York is October 1 in UTC: the count, the pace and the day
    are September's."""
    sms_admin_services.configuration_update(actor=None, sms_message_limit=2905)
    usage(2026, 9, 2900)
    usage(2026, 10, 7)
    with time_machine.travel(datetime(2026, 9, 30, 22, tzinfo=NY), tick=False):
        body = admin_api.get("/api/v1/sms-usage/").json()

    assert body["month"] == "2026-09"
    assert body["sent"] == 2900
    # 2,900 texts in 718 hours; two hours to go.
    assert body["forecast_month_end"] == 2908
    # The 2,905th text comes at about 23:14 New York time, 03:14 on October 1 in UTC.
    assert body["limit_reached_on"] == "2026-09-30"


def test_the_first_half_hour_of_a_month_forecasts_from_a_whole_day(admin_api: APIClient) -> None:
    usage(2026, 9, 2900)
    usage(2026, 10, 7)
    with time_machine.travel(datetime(2026, 10, 1, 0, 30, tzinfo=NY), tick=False):
        body = admin_api.get("/api/v1/sms-usage/").json()

    assert body["month"] == "2026-10"
    assert body["sent"] == 7
    # 7 a day for the 30 days and 23.5 hours left, not 7 per half hour (10,409).
    assert body["forecast_month_end"] == 224
    assert body["limit_reached_on"] is None


def test_the_twilio_tab_shows_the_forecast(admin_user: Any) -> None:
    usage(2026, 9, 6000)
    client = Client()
    client.force_login(admin_user)
    with time_machine.travel(datetime(2026, 9, 16, tzinfo=NY), tick=False):
        page = client.get("/sms-configuration/twilio/").content.decode()

    assert (
        "At this month's pace: about 12000 texts by the end of the month, so the limit "
        "would be reached on September 26." in page
    )


@pytest.mark.parametrize(
    ("sent", "sentence"),
    [
        (0, "No text sent this month yet, so no forecast."),
        (3000, "about 6000 texts by the end of the month, within the limit."),
        (10000, "The limit is reached: texts go by email until the month ends"),
    ],
)
def test_the_twilio_tab_words_each_outlook(admin_user: Any, sent: int, sentence: str) -> None:
    usage(2026, 9, sent)
    client = Client()
    client.force_login(admin_user)
    with time_machine.travel(datetime(2026, 9, 16, tzinfo=NY), tick=False):
        page = client.get("/sms-configuration/twilio/").content.decode()

    assert sentence in page
