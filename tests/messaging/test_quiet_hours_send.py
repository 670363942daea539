"""Quiet hours on the send path, with a fixed clock: a text that would leave inside the window
is held `scheduled` until it ends (a single send, a cohort, an explicit `send_at`), except a
reply to the person's own text of the last 2 hours; the API answer, the person page and its
compose box say when it goes; the configuration API and the General Settings tab set them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from messaging import services
from messaging.models import Channel, Direction, Message, Status
from people.models import Person
from sms_admin import services as sms_admin_services
from sms_admin.models import SmsConfiguration
from tests.sending_support import pool_numbers, student_with_phone

pytestmark = pytest.mark.usefixtures("config", "policy")

NY = ZoneInfo("America/New_York")
# Tuesday 2026-12-01, 23:00 in New York: inside the default 21:00-08:00.
NIGHT = datetime(2026, 12, 1, 23, 0, tzinfo=NY)
MORNING = datetime(2026, 12, 2, 8, 0, tzinfo=NY)


@pytest.fixture(autouse=True)
def quiet(settings: Any, config: SmsConfiguration) -> Iterator[None]:
    settings.TIME_ZONE = "America/New_York"
    sms_admin_services.configuration_update(
        actor=None, quiet_hours_start=time(21, 0), quiet_hours_end=time(8, 0)
    )
    with time_machine.travel(NIGHT, tick=False):
        yield


def _inbound(person: Person, at: datetime) -> None:
    text = Message.objects.create(
        direction=Direction.INBOUND,
        sender=person,
        channel=Channel.SMS,
        body="Are you there?",
        status=Status.RECEIVED,
    )
    Message.objects.filter(pk=text.pk).update(created_at=at)


def test_a_text_at_night_is_held_until_the_window_ends_and_the_answer_says_so(
    advisor: Person,
    advisor_api: APIClient,
    published: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    student, _ = student_with_phone()

    with django_capture_on_commit_callbacks(execute=True):
        response = advisor_api.post(
            "/api/v1/messages/", {"recipient": student.pk, "body": "Hi"}, format="json"
        )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "scheduled"
    assert datetime.fromisoformat(body["send_at"]) == MORNING
    assert body["when"] == "will go tomorrow at 08:00"
    assert published == []


def test_after_midnight_it_will_go_at_08_00_today(
    advisor: Person, advisor_api: APIClient, published: list[int]
) -> None:
    student, _ = student_with_phone()
    with time_machine.travel(datetime(2026, 12, 2, 2, 0, tzinfo=NY), tick=False):
        body = advisor_api.post(
            "/api/v1/messages/", {"recipient": student.pk, "body": "Hi"}, format="json"
        ).json()
    assert body["when"] == "will go at 08:00"


def test_the_held_text_leaves_when_the_window_ends(
    advisor: Person, published: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")

    with time_machine.travel(MORNING - timedelta(seconds=1), tick=False):
        assert services.messages_release_all_due() == 0
    with (
        time_machine.travel(MORNING, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.messages_release_all_due() == 1

    text.refresh_from_db()
    assert text.status == Status.QUEUED
    assert published == [text.pk]


def test_a_reply_to_the_persons_text_of_the_last_two_hours_goes_at_once(
    advisor: Person, published: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    _inbound(student, NIGHT - timedelta(hours=1, minutes=59))

    with django_capture_on_commit_callbacks(execute=True):
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="Yes")

    assert text.status == Status.QUEUED
    assert text.send_at is None
    assert published == [text.pk]


def test_a_person_who_texted_more_than_two_hours_ago_waits(
    advisor: Person, published: list[int]
) -> None:
    student, _ = student_with_phone()
    _inbound(student, NIGHT - timedelta(hours=2, minutes=1))

    text = services.message_send(sender=advisor, recipient_id=student.pk, body="Yes")

    assert (text.status, text.send_at) == (Status.SCHEDULED, MORNING)


def test_a_cohort_at_night_waits_except_the_people_who_just_texted(
    advisor: Person, published: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    ana, _ = student_with_phone("+12025550101")
    bo, _ = student_with_phone("+12025550102")
    _inbound(bo, NIGHT - timedelta(minutes=10))

    with django_capture_on_commit_callbacks(execute=True):
        result = services.message_send_bulk(
            sender=advisor, recipient_ids=[ana.pk, bo.pk], body="Reminder"
        )

    to_ana, to_bo = Message.objects.filter(pk__in=result.message_ids).order_by("pk")
    assert (to_ana.recipient_id, to_ana.status, to_ana.send_at) == (
        ana.pk,
        Status.SCHEDULED,
        MORNING,
    )
    assert (to_bo.recipient_id, to_bo.status) == (bo.pk, Status.QUEUED)
    assert published == [to_bo.pk]


def test_the_cohort_answer_says_how_many_wait_and_when(
    advisor: Person, advisor_api: APIClient, published: list[int]
) -> None:
    pool_numbers(1)
    ana, _ = student_with_phone("+12025550101")
    bo, _ = student_with_phone("+12025550102", email="bo@example.edu")
    _inbound(bo, NIGHT - timedelta(minutes=10))

    body = advisor_api.post(
        "/api/v1/messages/bulk/", {"recipients": [ana.pk, bo.pk], "body": "Hi"}, format="json"
    ).json()

    assert (body["count"], body["scheduled"], body["channels"]) == (2, 1, {"sms": 1})
    assert datetime.fromisoformat(body["send_at"]) == MORNING
    assert body["when"] == "will go tomorrow at 08:00"


def test_the_cohort_preview_says_when_the_texts_would_go(
    advisor: Person, advisor_api: APIClient
) -> None:
    ana, _ = student_with_phone("+12025550101")

    body = advisor_api.post(
        "/api/v1/messages/bulk/preview/", {"recipients": [ana.pk], "body": "Hi"}, format="json"
    ).json()

    assert datetime.fromisoformat(body["send_at"]) == MORNING
    assert body["when"] == "will go tomorrow at 08:00"
    assert not Message.objects.exists()


def test_a_text_scheduled_into_the_window_waits_for_its_end(
    advisor: Person, published: list[int]
) -> None:
    student, _ = student_with_phone()
    _inbound(student, NIGHT - timedelta(minutes=5))

    text = services.message_send(
        sender=advisor,
        recipient_id=student.pk,
        body="Hi",
        send_at=datetime(2026, 12, 3, 22, 0, tzinfo=NY),
    )

    assert text.send_at == datetime(2026, 12, 4, 8, 0, tzinfo=NY)


def test_with_quiet_hours_off_a_text_at_night_goes_at_once(
    advisor: Person, published: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    sms_admin_services.configuration_update(actor=None, quiet_hours_start=None)
    student, _ = student_with_phone()

    with django_capture_on_commit_callbacks(execute=True):
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")

    assert text.status == Status.QUEUED


def test_the_person_page_says_when_a_text_sent_now_will_go(
    advisor: Person, published: list[int]
) -> None:
    student, _ = student_with_phone()
    browser = Client()
    browser.force_login(advisor.user)

    page = browser.get(reverse("person-detail", args=[student.pk])).content.decode()
    assert "Quiet hours (21:00-08:00): a text you send now will go tomorrow at 08:00." in page

    response = browser.post(
        reverse("person-send", args=[student.pk]), {"body": "Hello"}, follow=True
    )
    page = response.content.decode()
    assert (
        "Scheduled for 2026-12-02 08:00 (America/New_York time), when quiet hours (21:00-08:00) "
        "end." in page
    )
    assert "Message recorded" not in page
    assert "will go at 2026-12-02 08:00" in page


def test_the_person_page_says_a_reply_goes_at_once(advisor: Person) -> None:
    student, _ = student_with_phone()
    _inbound(student, NIGHT - timedelta(minutes=30))
    browser = Client()
    browser.force_login(advisor.user)

    page = browser.get(reverse("person-detail", args=[student.pk])).content.decode()

    assert "texted in the last 2 hours, so your answer goes at once" in page


# --- configuration ------------------------------------------------------------------------


def test_a_new_installation_has_quiet_hours_from_21_00_to_08_00() -> None:
    fresh = SmsConfiguration()
    assert (fresh.quiet_hours_start, fresh.quiet_hours_end) == (time(21, 0), time(8, 0))


def test_the_configuration_api_reads_and_sets_quiet_hours(admin_api: APIClient) -> None:
    assert admin_api.get("/api/v1/sms-configuration/").json()["quiet_hours_start"] == "21:00"

    changed = admin_api.patch(
        "/api/v1/sms-configuration/",
        {"quiet_hours_start": "22:30", "quiet_hours_end": "07:15"},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["quiet_hours_start"], changed.json()["quiet_hours_end"]) == (
        "22:30",
        "07:15",
    )
    off = admin_api.patch("/api/v1/sms-configuration/", {"quiet_hours_end": None}, format="json")
    assert off.json()["quiet_hours_end"] is None
    config = SmsConfiguration.objects.get()
    assert (config.quiet_hours_start, config.quiet_hours_end) == (time(22, 30), None)


@pytest.mark.parametrize("value", ["25:00", "9pm", "21:00:00"])
def test_a_bad_quiet_hours_value_is_refused_naming_the_field(
    admin_api: APIClient, value: str
) -> None:
    response = admin_api.patch(
        "/api/v1/sms-configuration/", {"quiet_hours_start": value}, format="json"
    )
    assert response.status_code == 400
    assert "quiet_hours_start" in response.json()
    assert SmsConfiguration.objects.get().quiet_hours_start == time(21, 0)


def test_the_general_settings_tab_sets_quiet_hours(admin_user: Any) -> None:
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get(reverse("sms-config-general")).content.decode()
    assert 'name="quiet_hours_start"' in page
    assert 'value="21:00"' in page
    config = SmsConfiguration.objects.get()
    form = {
        "student_sms_default": config.student_sms_default,
        "staff_sms_default": config.staff_sms_default,
        "default_sms_phone_type": config.default_sms_phone_type_id,
        "permitted_roles": [r.pk for r in config.permitted_roles.all()],
        "opt_out_scope": config.opt_out_scope,
        "sms_max_length": config.sms_max_length,
        "quiet_hours_start": "20:00",
        "quiet_hours_end": "",
    }

    response = browser.post(reverse("sms-config-general"), form)

    assert response.status_code == 302
    config.refresh_from_db()
    assert (config.quiet_hours_start, config.quiet_hours_end) == (time(20, 0), None)
