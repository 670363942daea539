"""Resting numbers (Q1): a released sender number waits `number_quarantine_days` before it is
given to someone else; never-used numbers go first, then the one released longest ago, and a
resting number only when nothing else is free, which is recorded. The setting is in the API
and on the Twilio tab."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from sms_admin import pool
from sms_admin.models import (
    ConfigurationChange,
    SenderAssignment,
    SenderNumber,
    SmsConfiguration,
)
from tests import factories
from tests.factories import assignments

pytestmark = pytest.mark.django_db

URL = "/api/v1/sms-configuration/"


def released(number: str, *, days_ago: float) -> SenderNumber:
    """`number` held once and released `days_ago` days ago."""
    held = assignments.assignment(number=number)
    pool.sender_assignment_release(assignment_id=held.pk)
    SenderAssignment.objects.filter(pk=held.pk).update(
        released_at=timezone.now() - timedelta(days=days_ago)
    )
    return held.sender_number


def rest(days: int) -> None:
    SmsConfiguration.objects.update_or_create(pk=1, defaults={"number_quarantine_days": days})


def first_send(**names: str) -> SenderAssignment:
    taken = pool.sender_number_ensure(person=factories.staff(**names))
    assert taken is not None
    return taken


def test_a_number_never_used_goes_before_one_that_has_rested(config: Any) -> None:
    released("+12015550101", days_ago=100)
    fresh = SenderNumber.objects.create(number="+12015550199")

    assert first_send().sender_number == fresh


def test_among_rested_numbers_the_one_released_longest_ago_goes_first(config: Any) -> None:
    released("+12015550101", days_ago=40)
    longest = released("+12015550102", days_ago=90)
    released("+12015550103", days_ago=60)

    taken = first_send()

    assert taken.sender_number == longest
    assert taken.assigned_while_resting is False


def test_a_resting_number_waits_while_a_rested_one_is_free(config: Any) -> None:
    resting = released("+12015550101", days_ago=1)
    rested = released("+12015550102", days_ago=31)

    assert first_send().sender_number == rested
    assert not SenderAssignment.objects.filter(
        sender_number=resting, released_at__isnull=True
    ).exists()


def test_a_resting_number_is_given_only_when_nothing_else_is_free_and_that_is_recorded(
    config: Any, caplog: Any
) -> None:
    resting = released("+12015550101", days_ago=2)

    with caplog.at_level(logging.WARNING, logger="sms_admin.pool"):
        taken = first_send(first_name="Cy", last_name="Three")

    assert taken.sender_number == resting
    assert taken.assigned_while_resting is True
    assert "+12015550101 goes to Cy Three" in caplog.text
    assert "less than 30 days ago" in caplog.text


def test_with_no_rest_a_number_released_today_is_rested(config: Any) -> None:
    rest(0)
    earlier = released("+12015550101", days_ago=0.5)
    released("+12015550102", days_ago=0.1)

    taken = first_send()

    assert (taken.sender_number, taken.assigned_while_resting) == (earlier, False)


def test_the_rest_is_configurable(config: Any) -> None:
    rest(7)
    number = released("+12015550101", days_ago=8)

    taken = first_send()

    assert (taken.sender_number, taken.assigned_while_resting) == (number, False)


# --- The setting: API and the Twilio tab -------------------------------------------------------


def test_the_api_reads_and_changes_the_rest_and_records_the_change(
    admin_api: APIClient, config: Any
) -> None:
    assert admin_api.get(URL).json()["number_quarantine_days"] == 30

    response = admin_api.patch(URL, {"number_quarantine_days": 7}, format="json")

    assert response.status_code == 200
    assert response.json()["number_quarantine_days"] == 7
    assert SmsConfiguration.objects.get().number_quarantine_days == 7
    change = ConfigurationChange.objects.get(field="number_quarantine_days")
    assert (change.old_value, change.new_value) == ("30", "7")


@pytest.mark.parametrize("days", [-1, 366, 10**12, "ten", None])
def test_the_api_refuses_a_rest_outside_0_to_365_days(
    admin_api: APIClient, config: Any, days: Any
) -> None:
    response = admin_api.patch(URL, {"number_quarantine_days": days}, format="json")

    assert response.status_code == 400
    assert response.json()["number_quarantine_days"]
    assert SmsConfiguration.objects.get().number_quarantine_days == 30


def test_the_schema_documents_the_rest(admin_api: APIClient) -> None:
    schema = admin_api.get("/api/schema/", {"format": "json"}).json()

    fields = schema["components"]["schemas"]["SmsConfiguration"]["properties"]
    assert fields["number_quarantine_days"]["maximum"] == 365


def _tab(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_administrator_sets_the_rest_on_the_twilio_tab(admin_user: Any, config: Any) -> None:
    page = _tab(admin_user).get(reverse("sms-config-twilio")).content.decode()
    assert "Days a released number rests" in page
    assert "unless no other number is free" in page

    response = _tab(admin_user).post(
        reverse("sms-config-twilio"), {"save": "number-reuse", "number_quarantine_days": "14"}
    )

    assert response.status_code == 302
    assert SmsConfiguration.objects.get().number_quarantine_days == 14
    assert ConfigurationChange.objects.get(field="number_quarantine_days").changed_by == admin_user


@pytest.mark.parametrize("days", ["366", "-1", "", "two weeks"])
def test_the_twilio_tab_refuses_a_rest_outside_0_to_365_next_to_the_field(
    admin_user: Any, config: Any, days: str
) -> None:
    response = _tab(admin_user).post(
        reverse("sms-config-twilio"), {"save": "number-reuse", "number_quarantine_days": days}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a number of days from 0 to 365." in page
    assert SmsConfiguration.objects.get().number_quarantine_days == 30
    assert not ConfigurationChange.objects.filter(field="number_quarantine_days").exists()
