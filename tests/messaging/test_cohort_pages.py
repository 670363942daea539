"""The cohort pages through Django's test client (K2): choosing people on the People list and by
pasted SIS ids, the preview, the send that records a cohort, and the progress counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from messaging.models import Channel, Cohort, Message, MessageTemplate, Status
from people.models import Person
from tests import factories
from tests.sending_support import pool_numbers


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def students(config: Any, cell: Any) -> list[Person]:
    """Three students with phones (one named long) and one with only an email."""
    people = []
    for i, (first, last) in enumerate((("Ana", "Lopez"), ("Bartholomew", "Li"), ("Cy", "Oh"))):
        person = factories.student(
            first_name=first, last_name=last, src_system_id=f"STU-{i}", email=f"s{i}@example.edu"
        )
        factories.PhoneFactory(person=person, number=f"+1202555011{i}", phone_type=cell)
        people.append(person)
    people.append(
        factories.student(
            first_name="Dee", last_name="Mail", src_system_id="STU-9", email="dee@example.edu"
        )
    )
    return people


def _ids(page: str) -> list[int]:
    return [int(v) for v in page.split('name="person" value="')[1:] for v in [v.split('"')[0]]]


def test_the_people_list_offers_selection_and_a_role_filter(
    advisor: Any, students: list[Person]
) -> None:
    page = login(advisor.user).get(reverse("home"), {"role": "advisor"}).content.decode()
    # Only the advisor holds the advisor role: the students are filtered out.
    assert "Lopez" not in page and advisor.last_name in page
    page = login(advisor.user).get(reverse("home"), {"role": "student"}).content.decode()
    assert "Select all 4 matching" in page
    assert f'id="pick-{students[0].pk}"' in page
    assert 'id="text-these"' in page


def test_staff_who_may_not_text_see_no_selection(config: Any, students: list[Person]) -> None:
    faculty = factories.staff("faculty", user=factories.UserFactory(username="faculty"))
    page = login(faculty.user).get(reverse("home")).content.decode()
    assert "Lopez" in page
    assert 'id="text-these"' not in page and "pick-" not in page


def test_ticked_people_reach_the_cohort_page(advisor: Any, students: list[Person]) -> None:
    chosen = [students[0].pk, students[2].pk]
    response = login(advisor.user).get(reverse("cohort-compose"), {"person": chosen})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong>2</strong> people chosen" in page
    assert sorted(_ids(page)) == sorted(chosen)


def test_select_all_matching_takes_everyone_the_filters_match(
    advisor: Any, students: list[Person]
) -> None:
    page = (
        login(advisor.user)
        .get(reverse("cohort-compose"), {"all": "1", "q": "", "role": "student"})
        .content.decode()
    )
    assert "<strong>4</strong> people chosen" in page
    assert "with the role Student" in page


def test_pasted_sis_ids_are_selected_and_unknown_ones_listed_back(
    advisor: Any, students: list[Person]
) -> None:
    response = login(advisor.user).post(
        reverse("cohort-compose"),
        {"sis_ids": "STU-0, STU-1\nNOPE-1\n\nSTU-0;NOPE-2", "action": "update"},
    )
    page = response.content.decode()
    assert "<strong>2</strong> people chosen" in page
    unknown = page.split('id="unknown-sis"')[1].split("</div>")[0]
    assert "<li>NOPE-1</li>" in unknown and "<li>NOPE-2</li>" in unknown
    assert "2 pasted IDs match nobody" in unknown


def test_the_sender_is_left_out_of_everyone_matching(advisor: Any, students: list[Person]) -> None:
    page = (
        login(advisor.user)
        .get(reverse("cohort-compose"), {"all": "1", "q": "", "role": ""})
        .content.decode()
    )
    assert "<strong>4</strong> people chosen" in page
    assert "You are left out" in page


def test_the_page_offers_templates_and_the_longest_names_for_the_counter(
    advisor: Any, students: list[Person]
) -> None:
    MessageTemplate.objects.create(name="Reminder", body="Hi {first_name}, see you soon.")
    page = (
        login(advisor.user)
        .get(reverse("cohort-compose"), {"person": [s.pk for s in students]})
        .content.decode()
    )
    assert 'data-body="Hi {first_name}, see you soon."' in page
    names = json.loads(page.split('id="longest-names" type="application/json">')[1].split("<")[0])
    assert names["first_name"] == "Bartholomew" and names["last_name"] == "Lopez"
    assert names["staff_first_name"] == advisor.first_name
    assert "{staff_last_name}" in page


def test_the_preview_shows_channels_reasons_segments_and_cost(
    advisor: Any, students: list[Person]
) -> None:
    pool_numbers(1)
    response = login(advisor.user).post(
        reverse("cohort-compose"),
        {"person": [s.pk for s in students], "body": "Hi {first_name}", "action": "preview"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="preview-sms">3<' in page
    assert 'id="preview-email">1<' in page
    assert 'id="preview-none">0<' in page
    assert "1: no phone can receive texts" in page
    assert 'id="preview-total-segments">3<' in page
    assert 'id="preview-cost">0.02 USD<' in page  # 3 segments at 0.0083
    assert not Message.objects.exists() and not Cohort.objects.exists()
    # Pacing is off in the suite's configuration: no departure time is promised.
    assert 'id="preview-last-leaves"' not in page


def test_the_preview_says_when_the_last_text_leaves_when_texts_are_paced(
    advisor: Any, students: list[Person], settings: Any
) -> None:
    import time_machine

    from sms_admin import services as sms_admin_services

    settings.TIME_ZONE = "America/New_York"
    sms_admin_services.configuration_update(actor=None, sender_segments_per_second=1)
    pool_numbers(1)
    with time_machine.travel(datetime(2026, 12, 1, 15, 0, 58, tzinfo=UTC), tick=False):
        response = login(advisor.user).post(
            reverse("cohort-compose"),
            {"person": [s.pk for s in students], "body": "Hi", "action": "preview"},
        )
    # 3 texts at 1 a second from 10:00:58 New York time: the last at 10:01:00.
    assert 'id="preview-last-leaves">about 10:01 (each sender number sends at a steady pace)<' in (
        response.content.decode()
    )


def test_a_preview_with_an_unknown_placeholder_names_it(
    advisor: Any, students: list[Person]
) -> None:
    response = login(advisor.user).post(
        reverse("cohort-compose"),
        {"person": [students[0].pk], "body": "Hi {nickname}", "action": "preview"},
    )
    assert response.status_code == 400
    assert "{nickname}" in response.content.decode().split('id="cohort-errors"')[1]


def test_send_records_a_cohort_and_goes_to_its_progress_page(
    advisor: Any, students: list[Person], django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    with django_capture_on_commit_callbacks():
        response = login(advisor.user).post(
            reverse("cohort-compose"),
            {"person": [s.pk for s in students], "body": "Hi {first_name}", "action": "send"},
        )
    cohort = Cohort.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cohort-progress", args=[cohort.pk])
    assert cohort.sender == advisor and cohort.count == 4 and cohort.body == "Hi {first_name}"
    assert Message.objects.filter(cohort=cohort).count() == 4
    assert set(Message.objects.filter(cohort=cohort).values_list("body", flat=True)) == {
        "Hi Ana",
        "Hi Bartholomew",
        "Hi Cy",
        "Hi Dee",
    }


def test_send_refused_records_nothing_and_says_why(advisor: Any, students: list[Person]) -> None:
    response = login(advisor.user).post(
        reverse("cohort-compose"), {"person": [students[0].pk], "body": "  ", "action": "send"}
    )
    assert response.status_code == 400
    assert "the text is empty" in response.content.decode()
    assert not Cohort.objects.exists() and not Message.objects.exists()


def test_staff_who_may_not_text_cannot_send_from_the_page(
    config: Any, students: list[Person]
) -> None:
    faculty = factories.staff("faculty", user=factories.UserFactory(username="faculty"))
    response = login(faculty.user).post(
        reverse("cohort-compose"), {"person": [students[0].pk], "body": "Hi", "action": "send"}
    )
    assert 'id="cohort-refusal"' in response.content.decode()
    assert 'id="send-button"' not in response.content.decode()
    assert not Cohort.objects.exists()


def test_the_progress_json_counts_by_status_and_channel(
    advisor: Any, students: list[Person], django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    client = login(advisor.user)
    client.post(
        reverse("cohort-compose"),
        {"person": [s.pk for s in students], "body": "Hi", "action": "send"},
    )
    cohort = Cohort.objects.get()
    url = reverse("cohort-progress-json", args=[cohort.pk])
    counts = client.get(url).json()
    assert counts == {
        "count": 4,
        "queued": 3,
        "sent": 0,
        "delivered": 0,
        "failed": 0,
        "by_email": 1,
        "nowhere": 0,
        "scheduled": 0,
        "canceled": 0,
        "finished": False,
        "finished_words": "Everything has left; delivery reports may still arrive.",
        "pace": "",
    }
    texts = Message.objects.filter(cohort=cohort, channel=Channel.SMS).order_by("pk")
    Message.objects.filter(pk=texts[0].pk).update(status=Status.SENT)
    Message.objects.filter(pk=texts[1].pk).update(status=Status.DELIVERED)
    Message.objects.filter(pk=texts[2].pk).update(status=Status.FAILED)
    Message.objects.filter(cohort=cohort, channel=Channel.EMAIL).update(status=Status.SENT)
    counts = client.get(url).json()
    assert (counts["queued"], counts["sent"], counts["delivered"], counts["failed"]) == (0, 1, 1, 1)
    assert counts["finished"] is True
    assert counts["finished_words"] == "Everything has left; delivery reports may still arrive."
    page = client.get(reverse("cohort-progress", args=[cohort.pk])).content.decode()
    assert 'data-progress="delivered">1<' in page


def test_only_the_sender_and_administrators_follow_a_cohort(
    advisor: Any, admin_user: Any, config: Any
) -> None:
    cohort = Cohort.objects.create(sender=advisor, body="Hi", count=0)
    other = factories.staff(user=factories.UserFactory(username="other"))
    assert login(other.user).get(reverse("cohort-progress", args=[cohort.pk])).status_code == 403
    url = reverse("cohort-progress-json", args=[cohort.pk])
    assert login(other.user).get(url).status_code == 403
    assert login(admin_user).get(url).status_code == 200
    assert login(advisor.user).get(url).status_code == 200
    assert login(advisor.user).get(reverse("cohort-progress", args=[999999])).status_code == 404


def test_the_message_report_filters_by_cohort(
    advisor: Any, admin_user: Any, admin_api: Any, students: list[Person]
) -> None:
    pool_numbers(1)
    login(advisor.user).post(
        reverse("cohort-compose"),
        {"person": [students[0].pk, students[1].pk], "body": "Hi", "action": "send"},
    )
    cohort = Cohort.objects.get()
    factories_message = Message.objects.create(
        direction="outbound", channel="sms", body="Other", sender=advisor, recipient=students[2]
    )
    page = login(admin_user).get(reverse("message-report"), {"cohort": cohort.pk})
    assert "2 messages" in page.content.decode()
    listed = admin_api.get("/api/v1/messages/", {"cohort": cohort.pk}).json()["results"]
    assert {row["id"] for row in listed} == set(
        Message.objects.filter(cohort=cohort).values_list("pk", flat=True)
    )
    assert factories_message.pk not in {row["id"] for row in listed}
    bad = admin_api.get("/api/v1/messages/", {"cohort": "abc"})
    assert bad.status_code == 400 and "cohort" in bad.json()
