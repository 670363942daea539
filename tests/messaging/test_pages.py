"""The person page and its compose form through Django's test client (P3, P4, R6, S1, S5, T10)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging import segments
from messaging.forms import ComposeForm
from messaging.models import Channel, Direction, Message, Status
from people import services as people_services
from tests import factories
from tests.factories import assignments
from tests.sending_support import pool_numbers


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def student(config: Any, cell: Any) -> Any:
    person = factories.student(first_name="Sam", last_name="Student", src_system_id="STU-1")
    factories.PhoneFactory(person=person, number="+12025550111", phone_type=cell)
    return person


def test_anonymous_visitors_are_sent_to_the_login_page(student: Any) -> None:
    response = Client().get(reverse("person-detail", args=[student.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_students_get_the_403_page(student: Any, student_person: Any) -> None:
    response = login(student_person.user).get(reverse("person-detail", args=[student.pk]))
    assert response.status_code == 403


def test_an_unknown_person_is_a_404(advisor: Any, config: Any) -> None:
    assert login(advisor.user).get(reverse("person-detail", args=[999999])).status_code == 404


def test_the_page_shows_the_last_verified_number_with_who_and_when(
    advisor: Any, student: Any, cell: Any
) -> None:
    verifier = factories.UserFactory(username="verifier")
    people_services.phone_create(
        person=student, number="+12025550199", phone_type=cell, verified_by=verifier
    )
    page = login(advisor.user).get(reverse("person-detail", args=[student.pk])).content.decode()
    last = page.split('id="last-verified"')[1].split("</div>")[0]
    assert "+12025550199" in last
    assert 'title="Verified by verifier on ' in last


def test_the_page_shows_the_route_with_its_explanation(advisor: Any, student: Any) -> None:
    pool_numbers(1)  # the advisor's first text is given this number
    page = login(advisor.user).get(reverse("person-detail", args=[student.pk])).content.decode()
    assert "SMS to +12025550111" in page
    assert "it is SMS Default with the default SMS phone type (cell)" in page


def test_a_permitted_advisor_sees_the_compose_box_with_the_limit(
    advisor: Any, student: Any
) -> None:
    page = login(advisor.user).get(reverse("person-detail", args=[student.pk])).content.decode()
    assert 'data-max-length="1000"' in page
    assert reverse("person-send", args=[student.pk]) in page


def test_the_compose_box_counts_with_the_servers_gsm7_tables(advisor: Any, student: Any) -> None:
    page = login(advisor.user).get(reverse("person-detail", args=[student.pk])).content.decode()
    found = re.search(r'<script id="gsm7-tables" type="application/json">(.*?)</script>', page)

    assert found is not None
    tables = json.loads(found.group(1))
    assert set(tables["basic"]) == segments.GSM7_BASIC
    assert set(tables["extension"]) == segments.GSM7_EXTENSION


def test_staff_without_a_permitted_role_see_no_compose_box_and_why(
    student: Any, config: Any
) -> None:
    counselor = factories.staff("counselor", user=factories.UserFactory(username="counselor"))
    page = login(counselor.user).get(reverse("person-detail", args=[student.pk])).content.decode()
    assert "data-compose" not in page
    assert "None of your roles is permitted to send texts" in page


def test_staff_without_a_permitted_role_cannot_post_a_text(student: Any, config: Any) -> None:
    counselor = factories.staff("counselor", user=factories.UserFactory(username="counselor"))
    response = login(counselor.user).post(reverse("person-send", args=[student.pk]), {"body": "hi"})
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_a_text_longer_than_sms_max_length_is_refused_with_the_reason(
    advisor: Any, student: Any
) -> None:
    response = login(advisor.user).post(
        reverse("person-send", args=[student.pk]), {"body": "x" * 1001}
    )
    assert response.status_code == 400
    assert response.context["compose"].errors["body"] == [
        "The text is 1001 characters; the limit is 1000 (smsMaxLength). Shorten it by 1."
    ]
    assert not Message.objects.exists()


def test_an_empty_text_is_refused(advisor: Any, student: Any) -> None:
    response = login(advisor.user).post(reverse("person-send", args=[student.pk]), {"body": "   "})
    assert response.status_code == 400
    assert not Message.objects.exists()
    assert response.context["compose"].errors["body"] == [
        "Write a message first: an empty text cannot be sent."
    ]


def test_a_valid_text_is_sent_and_the_redirect_shows_it_in_the_conversation(
    advisor: Any, student: Any, sandbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    client = login(advisor.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("person-send", args=[student.pk]), {"body": "Hello Sam"})

    message = Message.objects.get()
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("person-detail", args=[student.pk]) + f"#message-{message.pk}"
    )
    assert (message.sender, message.recipient, message.body) == (advisor, student, "Hello Sam")
    assert (message.channel, message.status) == (Channel.SMS, Status.SENT)
    assert [c["form"]["To"] for c in sandbox.creates()] == ["+12025550111"]
    page = client.get(response["Location"]).content.decode()
    item = page.split(f'id="message-{message.pk}"')[1].split("</li>")[0]
    assert "Hello Sam" in item
    assert '<span class="badge">SMS</span>' in item
    assert "to +12025550111" in item
    assert ">sent</span>" in item
    assert "Message recorded: SMS to +12025550111." in page


def test_a_text_to_a_person_without_a_textable_phone_shows_it_went_by_email(
    advisor: Any, config: Any, django_capture_on_commit_callbacks: Any
) -> None:
    person = factories.student(email="no.phone@example.edu")
    client = login(advisor.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("person-send", args=[person.pk]), {"body": "Hi"})

    page = client.get(response["Location"]).content.decode()
    message = Message.objects.get(recipient=person)
    item = page.split(f'id="message-{message.pk}"')[1].split("</li>")[0]
    assert '<span class="badge badge-mail">Email</span>' in item
    assert "to no.phone@example.edu" in item
    assert ">sent</span>" in item
    assert message.failure_reason == "NO_SMS_PHONE"
    assert "Not sent as a text: it goes by email to no.phone@example.edu instead" in page


def test_a_refusal_the_form_does_not_know_is_shown_with_the_services_words(
    advisor: Any, student: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A form that lets everything through (as a stale one would): the service still refuses.
    monkeypatch.setattr(ComposeForm, "clean_body", lambda form: form.cleaned_data["body"])

    response = login(advisor.user).post(
        reverse("person-send", args=[student.pk]), {"body": "x" * 1001}
    )

    assert response.status_code == 400
    [error] = response.context["compose"].errors["body"]
    assert error.startswith("The text is 1001 characters long; the limit is 1000 (smsMaxLength).")
    assert 'id="compose-error"' in response.content.decode()
    assert not Message.objects.exists()


def test_a_text_to_ones_own_profile_is_refused(advisor: Any, config: Any) -> None:
    response = login(advisor.user).post(reverse("person-send", args=[advisor.pk]), {"body": "hi"})
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_an_administrator_without_a_person_record_gets_the_403_page_with_the_reason(
    admin_user: Any, student: Any
) -> None:
    response = login(admin_user).post(reverse("person-send", args=[student.pk]), {"body": "hi"})
    assert response.status_code == 403
    assert "not linked to a person" in response.content.decode()
    assert not Message.objects.exists()


def test_system_numbers_show_as_system_on_the_staff_members_own_profile(
    advisor: Any, config: Any
) -> None:
    held = assignments.assignment(advisor)
    page = login(advisor.user).get(reverse("person-detail", args=[advisor.pk])).content.decode()
    row = page.split(f'id="phone-{held.phone_id}"')[1].split("</tr>")[0]
    assert '<td data-label="Type">System</td>' in row
    assert "Text Msg Only" not in page


def test_a_students_success_team_shows_system_numbers_as_text_msg_only(
    advisor: Any, student: Any
) -> None:
    held = assignments.assignment(advisor)
    Message.objects.create(
        direction=Direction.OUTBOUND,
        sender=advisor,
        recipient=student,
        channel=Channel.SMS,
        body="Hi",
        status=Status.DELIVERED,
    )
    page = login(advisor.user).get(reverse("person-detail", args=[student.pk])).content.decode()
    team = page.split('id="success-team"')[1].split("</section>")[0]
    assert held.sender_number.number in team
    assert "Text Msg Only" in team


def test_the_conversation_marks_email_fallbacks_and_statuses(advisor: Any, student: Any) -> None:
    text = Message.objects.create(
        direction=Direction.OUTBOUND,
        sender=advisor,
        recipient=student,
        channel=Channel.SMS,
        body="Are you coming?",
        status=Status.FAILED,
        failure_reason="TWILIO_RECIPIENT_UNSUBSCRIBED",
    )
    Message.objects.create(
        direction=Direction.OUTBOUND,
        sender=advisor,
        recipient=student,
        channel=Channel.EMAIL,
        destination="sam@example.edu",
        body="Are you coming?",
        status=Status.SENT,
        replaces=text,
        sent_at=timezone.now(),
    )
    page = login(advisor.user).get(reverse("person-detail", args=[student.pk])).content.decode()
    conversation = page.split('id="conversation"')[1].split("</section>")[0]
    assert f"Email fallback for text #{text.pk}" in conversation
    assert "Recipient unsubscribed (STOP)" in conversation
    assert "failed" in conversation and "sent" in conversation


def test_the_phone_status_history_is_listed(advisor: Any, student: Any) -> None:
    phone = student.phones.get()
    people_services.phone_update(phone=phone, actor=advisor.user, sms_status="disabled")
    page = login(advisor.user).get(reverse("person-detail", args=[student.pk])).content.decode()
    history = page.split('id="status-history"')[1].split("</section>")[0]
    assert "SMS Default" in history and "SMS Disabled" in history
    assert "Changed by hand" in history and "advisor" in history


def test_the_login_page_renders_with_a_csrf_token(db: Any) -> None:
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content
