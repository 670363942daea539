"""The browser pages' "Send at" and template picker (K2, K4, K5, K6), through Django's test
client on a fixed clock: the person page's compose box and the cohort page schedule a text for a
date and time in the institution's time zone, refuse a time in the past, less than a minute or
more than 90 days ahead, or not a time at all (a form error naming the field, nothing recorded),
and say "Scheduled for ..." after sending; the cohort's progress page counts its scheduled texts
and cancels them; templates are offered to staff who may send, and only to them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from messaging.models import Channel, Cohort, Direction, Message, MessageTemplate, Status
from people.models import Person
from sms_admin import services as sms_admin_services
from tests import factories
from tests.sending_support import pool_numbers, student_with_phone

pytestmark = pytest.mark.usefixtures("config", "policy")

NY = ZoneInfo("America/New_York")
# Tuesday 2026-12-01, 15:00 in New York (20:00 UTC).
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=NY)


@pytest.fixture(autouse=True)
def fixed_clock(settings: Any) -> Iterator[None]:
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(NOW, tick=False):
        yield


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def student() -> Person:
    pool_numbers(1)
    person, _ = student_with_phone(first_name="Sam", last_name="Rivera")
    return person


def send(client: Client, person: Person, **data: str) -> Any:
    return client.post(reverse("person-send", args=[person.pk]), data)


# --- the person page ----------------------------------------------------------------------


def test_a_chosen_time_schedules_the_text_and_the_page_says_so(
    advisor: Person, student: Person, published: list[int]
) -> None:
    client = login(advisor.user)

    response = send(client, student, body="See you Thursday", send_at="2026-12-03T09:30")

    text = Message.objects.get()
    assert text.status == Status.SCHEDULED
    assert text.send_at == datetime(2026, 12, 3, 9, 30, tzinfo=NY)
    assert published == []
    page = client.get(response["Location"]).content.decode()
    assert "Scheduled for 2026-12-03 09:30 (America/New_York time)." in page
    assert "Message recorded" not in page
    item = page.split(f'id="message-{text.pk}"')[1].split("</li>")[0]
    assert "will go at 2026-12-03 09:30" in item
    assert reverse("person-message-cancel", args=[student.pk, text.pk]) in item


def test_an_empty_send_at_sends_now(advisor: Person, student: Person, published: list[int]) -> None:
    send(login(advisor.user), student, body="Hello", send_at="")

    text = Message.objects.get()
    assert text.status == Status.QUEUED
    assert text.send_at is None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("2026-12-01T14:59", "Send at: 2026-12-01 14:59 is in the past"),
        ("2026-12-01T15:00", "Send at: 2026-12-01 15:00 is in the past or less than a minute"),
        ("2027-03-01T15:01", "Send at: 2027-03-01 15:01 is more than 90 days ahead"),
        ("tomorrow", "Send at: enter a date and a time, like 2026-12-24 09:30"),
        ("2026-13-40T25:00", "Send at: enter a date and a time"),
        # 02:30 does not exist in New York on the morning clocks spring forward.
        (
            "2027-03-14T02:30",
            "Send at: 2027-03-14 02:30 does not exist or happens twice in America/New_York",
        ),
    ],
)
def test_a_send_at_that_is_not_allowed_is_a_form_error_and_nothing_is_recorded(
    advisor: Person, student: Person, published: list[int], value: str, error: str
) -> None:
    response = send(login(advisor.user), student, body="Hello", send_at=value)

    assert response.status_code == 400
    page = response.content.decode()
    field_error = page.split('id="id_send_at-error"')[1].split("</ul>")[0]
    assert error in field_error
    assert 'aria-invalid="true"' in page
    # The text typed is kept for another try.
    assert "Hello</textarea>" in page
    assert not Message.objects.exists()
    assert published == []


def test_one_minute_and_90_days_ahead_are_both_allowed(
    advisor: Person, student: Person, published: list[int]
) -> None:
    client = login(advisor.user)

    send(client, student, body="Soon", send_at="2026-12-01T15:01")
    send(client, student, body="Later", send_at="2027-03-01T15:00")

    assert sorted(Message.objects.values_list("send_at", flat=True)) == [
        datetime(2026, 12, 1, 15, 1, tzinfo=NY),
        datetime(2027, 3, 1, 15, 0, tzinfo=NY),
    ]


def test_seconds_are_ignored(advisor: Person, student: Person, published: list[int]) -> None:
    send(login(advisor.user), student, body="Hi", send_at="2026-12-03T09:30:45")

    assert Message.objects.get().send_at == datetime(2026, 12, 3, 9, 30, tzinfo=NY)


def test_a_time_with_an_offset_is_taken_as_written(
    advisor: Person, student: Person, published: list[int]
) -> None:
    send(login(advisor.user), student, body="Hi", send_at="2026-12-03T14:30:00+00:00")

    assert Message.objects.get().send_at == datetime(2026, 12, 3, 9, 30, tzinfo=NY)


def test_a_time_inside_quiet_hours_waits_for_their_end_and_the_page_says_why(
    advisor: Person, student: Person, published: list[int]
) -> None:
    sms_admin_services.configuration_update(
        actor=None, quiet_hours_start=time(21, 0), quiet_hours_end=time(8, 0)
    )
    client = login(advisor.user)

    response = send(client, student, body="Hi", send_at="2026-12-02T22:30")

    assert Message.objects.get().send_at == datetime(2026, 12, 3, 8, 0, tzinfo=NY)
    page = client.get(response["Location"]).content.decode()
    assert (
        "Scheduled for 2026-12-03 08:00 (America/New_York time): 22:30 is inside quiet hours "
        "(21:00-08:00), so it waits for their end." in page
    )


def test_the_field_shows_the_time_zone_and_offers_only_allowed_times(
    advisor: Person, student: Person
) -> None:
    sms_admin_services.configuration_update(
        actor=None, quiet_hours_start=time(21, 0), quiet_hours_end=time(8, 0)
    )
    page = login(advisor.user).get(reverse("person-detail", args=[student.pk])).content.decode()

    field = page.split('<input type="datetime-local"')[1].split(">")[0]
    assert 'name="send_at"' in field
    assert 'min="2026-12-01T15:02"' in field
    assert 'max="2027-03-01T15:00"' in field
    assert '<span id="id_send_at-zone" class="zone">America/New_York time</span>' in page
    assert "a time inside quiet hours (21:00-08:00) waits until they end" in page


def test_staff_who_may_not_send_are_refused_before_a_bad_time_is_judged(
    config: Any, student: Person
) -> None:
    faculty = factories.staff("faculty", user=factories.UserFactory(username="faculty"))

    response = send(login(faculty.user), student, body="Hi", send_at="yesterday")

    assert response.status_code == 403
    assert not Message.objects.exists()


# --- the template picker ------------------------------------------------------------------


def test_templates_are_offered_in_the_compose_box_with_their_text(
    advisor: Person, student: Person
) -> None:
    MessageTemplate.objects.create(name="Advising week", body="Hi {first_name}, advising opens.")

    page = login(advisor.user).get(reverse("person-detail", args=[student.pk])).content.decode()

    picker = page.split('<select id="compose-template"')[1].split("</select>")[0]
    assert 'data-template-for="id_body"' in picker
    assert 'data-body="Hi {first_name}, advising opens."' in picker
    assert ">Advising week</option>" in picker
    # The counter measures the text as Sam gets it: the merge values are on the page.
    script = '<script id="merge-names" type="application/json">'
    names = json.loads(page.split(script)[1].split("<")[0])
    assert names == {
        "first_name": "Sam",
        "last_name": "Rivera",
        "staff_first_name": advisor.first_name,
        "staff_last_name": advisor.last_name,
    }


def test_staff_who_may_not_send_are_offered_no_template(config: Any, student: Person) -> None:
    MessageTemplate.objects.create(name="Advising week", body="Hi {first_name}, advising opens.")
    faculty = factories.staff("faculty", user=factories.UserFactory(username="faculty"))

    page = login(faculty.user).get(reverse("person-detail", args=[student.pk])).content.decode()

    assert "Start from a template" not in page
    assert "advising opens" not in page


def test_a_template_with_merge_fields_is_sent_merged(
    advisor: Person, student: Person, published: list[int]
) -> None:
    send(login(advisor.user), student, body="Hi {first_name}, advising opens.")

    assert Message.objects.get().body == "Hi Sam, advising opens."


# --- the cohort page and its progress -----------------------------------------------------


@pytest.fixture
def cohort_people() -> list[Person]:
    pool_numbers(1)
    return [
        student_with_phone(f"+1202555020{i}", first_name=name)[0]
        for i, name in enumerate(("Ana", "Cy"))
    ]


def cohort_post(client: Client, people: list[Person], **data: str) -> Any:
    return client.post(
        reverse("cohort-compose"), {"person": [p.pk for p in people], "body": "Hi", **data}
    )


def test_a_cohort_with_a_time_is_scheduled_and_its_progress_page_says_so(
    advisor: Person, cohort_people: list[Person], published: list[int]
) -> None:
    client = login(advisor.user)

    response = cohort_post(client, cohort_people, action="send", send_at="2026-12-03T09:30")

    cohort = Cohort.objects.get()
    assert response["Location"] == reverse("cohort-progress", args=[cohort.pk])
    assert set(Message.objects.values_list("status", "send_at")) == {
        (Status.SCHEDULED, datetime(2026, 12, 3, 9, 30, tzinfo=NY))
    }
    page = client.get(response["Location"]).content.decode()
    assert "Scheduled for 2026-12-03 09:30 (America/New_York time)." in page
    assert '<span data-progress="scheduled">2</span> texts are scheduled' in page
    assert "2026-12-03 09:30</time> (America/New_York time)" in page
    assert reverse("cohort-cancel", args=[cohort.pk]) in page
    counts = client.get(reverse("cohort-progress-json", args=[cohort.pk])).json()
    assert (counts["scheduled"], counts["queued"], counts["finished"]) == (2, 0, False)


def test_the_cohort_preview_says_when_the_texts_would_go_and_records_nothing(
    advisor: Person, cohort_people: list[Person]
) -> None:
    response = cohort_post(
        login(advisor.user), cohort_people, action="preview", send_at="2026-12-03T09:30"
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Preview: what sending at 2026-12-03 09:30 would do" in page
    assert "wait until <strong>2026-12-03 09:30 (America/New_York time)</strong>" in page
    assert 'id="preview-sms">2<' in page
    assert 'value="2026-12-03T09:30"' in page
    assert "Schedule for 2 people" in page
    assert not Message.objects.exists() and not Cohort.objects.exists()


def test_the_cohort_preview_during_quiet_hours_says_they_hold_the_texts(
    advisor: Person, cohort_people: list[Person]
) -> None:
    sms_admin_services.configuration_update(
        actor=None, quiet_hours_start=time(14, 0), quiet_hours_end=time(16, 0)
    )

    page = cohort_post(login(advisor.user), cohort_people, action="preview").content.decode()

    assert "wait until <strong>2026-12-01 16:00 (America/New_York time)</strong>, when" in page


@pytest.mark.parametrize("action", ["send", "preview"])
@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("2026-12-01T14:00", "Send at: 2026-12-01 14:00 is in the past"),
        ("2027-06-01T09:00", "is more than 90 days ahead"),
        ("someday", "Send at: enter a date and a time"),
    ],
)
def test_a_cohort_time_that_is_not_allowed_is_a_form_error_and_nothing_is_recorded(
    advisor: Person,
    cohort_people: list[Person],
    published: list[int],
    action: str,
    value: str,
    error: str,
) -> None:
    response = cohort_post(login(advisor.user), cohort_people, action=action, send_at=value)

    assert response.status_code == 400
    page = response.content.decode()
    assert error in page.split('id="id_send_at-error"')[1].split("</ul>")[0]
    assert 'id="preview"' not in page
    assert not Message.objects.exists() and not Cohort.objects.exists()


@pytest.fixture
def scheduled_cohort(
    advisor: Person, cohort_people: list[Person], published: list[int]
) -> tuple[Client, Cohort]:
    """The advisor's page client and their cohort of two, scheduled for Thursday 09:30."""
    client = login(advisor.user)
    cohort_post(client, cohort_people, action="send", send_at="2026-12-03T09:30")
    return client, Cohort.objects.get()


def test_cancelling_a_scheduled_cohort_cancels_its_waiting_texts(
    scheduled_cohort: tuple[Client, Cohort],
) -> None:
    client, cohort = scheduled_cohort
    cancel = reverse("cohort-cancel", args=[cohort.pk])

    page = client.post(cancel, follow=True).content.decode()

    assert set(Message.objects.values_list("status", flat=True)) == {Status.CANCELED}
    assert "Cancelled: 2 texts that had not left yet will not be sent." in page
    assert cancel not in page
    assert 'data-progress="canceled">2<' in page
    again = client.post(cancel, follow=True).content.decode()
    assert "None of this cohort&#x27;s texts is scheduled or waiting any more" in again


def test_a_cohort_cancelled_whole_says_none_was_sent_not_that_everything_left(
    scheduled_cohort: tuple[Client, Cohort],
) -> None:
    client, cohort = scheduled_cohort
    client.post(reverse("cohort-cancel", args=[cohort.pk]))

    page = client.get(reverse("cohort-progress", args=[cohort.pk])).content.decode()
    counts = client.get(reverse("cohort-progress-json", args=[cohort.pk])).json()

    state = page.split('id="progress-state" role="status">')[1].split("</p>")[0]
    assert state == "Cancelled: none of these texts was sent."
    assert (counts["finished"], counts["finished_words"]) == (True, state)


def test_a_cohort_cancelled_in_part_counts_the_cancelled_apart(
    scheduled_cohort: tuple[Client, Cohort],
) -> None:
    client, cohort = scheduled_cohort
    first = Message.objects.order_by("pk").first()
    assert first is not None
    # One text left before the other was cancelled.
    Message.objects.filter(pk=first.pk).update(status=Status.SENT)
    client.post(reverse("cohort-cancel", args=[cohort.pk]))

    counts = client.get(reverse("cohort-progress-json", args=[cohort.pk])).json()

    assert counts["finished_words"] == (
        "Everything else has left (1 cancelled); delivery reports may still arrive."
    )


def test_only_the_sender_and_administrators_cancel_a_cohort(
    advisor: Person, admin_user: Any, cohort_people: list[Person], published: list[int]
) -> None:
    cohort_post(login(advisor.user), cohort_people, action="send", send_at="2026-12-03T09:30")
    cohort = Cohort.objects.get()
    other = factories.staff(user=factories.UserFactory(username="other"))
    cancel = reverse("cohort-cancel", args=[cohort.pk])

    assert login(other.user).post(cancel).status_code == 403
    assert login(advisor.user).get(cancel).status_code == 405
    assert set(Message.objects.values_list("status", flat=True)) == {Status.SCHEDULED}
    login(admin_user).post(cancel)
    assert set(Message.objects.values_list("status", flat=True)) == {Status.CANCELED}


def test_a_cohort_sent_during_quiet_hours_says_who_waits_and_who_got_it_at_once(
    advisor: Person, cohort_people: list[Person], published: list[int]
) -> None:
    sms_admin_services.configuration_update(
        actor=None, quiet_hours_start=time(14, 0), quiet_hours_end=time(16, 0)
    )
    replied = Message.objects.create(
        direction=Direction.INBOUND,
        sender=cohort_people[0],
        channel=Channel.SMS,
        body="Are you there?",
        status=Status.RECEIVED,
    )
    Message.objects.filter(pk=replied.pk).update(created_at=NOW - timedelta(minutes=30))
    client = login(advisor.user)

    response = cohort_post(client, cohort_people, action="send")

    page = client.get(response["Location"]).content.decode()
    assert (
        "1 of 2 texts: Scheduled for 2026-12-01 16:00 (America/New_York time), when quiet hours "
        "(14:00-16:00) end. Until then it can be cancelled. The other 1 went at once: those "
        "people texted in the last 2 hours." in page
    )
    outbound = Message.objects.filter(direction=Direction.OUTBOUND)
    assert outbound.get(recipient=cohort_people[0]).status == Status.QUEUED
    assert outbound.get(recipient=cohort_people[1]).status == Status.SCHEDULED
