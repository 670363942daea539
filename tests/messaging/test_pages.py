"""The person page and its compose form through Django's test client (P3, P4, R6, S1, S5, T10)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging import services as messaging_services
from messaging.models import Channel, Direction, Message, Status
from people import services as people_services
from tests import factories
from tests.factories import assignments


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def student(config: Any, cell: Any) -> Any:
    person = factories.student(first_name="Sam", last_name="Student", src_system_id="STU-1")
    factories.PhoneFactory(person=person, number="+12025550111", phone_type=cell)
    return person


@pytest.fixture
def no_sending_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page as it is before the sending pipeline is merged: no message_send."""
    monkeypatch.delattr(messaging_services, "message_send", raising=False)


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
    page = login(advisor.user).get(reverse("person-detail", args=[student.pk])).content.decode()
    assert "SMS to +12025550111" in page
    assert "(R3)" in page


def test_a_permitted_advisor_sees_the_compose_box_with_the_limit(
    advisor: Any, student: Any
) -> None:
    page = login(advisor.user).get(reverse("person-detail", args=[student.pk])).content.decode()
    assert 'data-max-length="1000"' in page
    assert reverse("person-send", args=[student.pk]) in page


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
    assert response.status_code == 200
    assert response.context["compose"].errors["body"] == [
        "The text is 1001 characters; the limit is 1000 (smsMaxLength). Shorten it by 1."
    ]
    assert not Message.objects.exists()


def test_an_empty_text_is_refused(advisor: Any, student: Any) -> None:
    response = login(advisor.user).post(reverse("person-send", args=[student.pk]), {"body": "   "})
    assert response.context["compose"].errors["body"] == [
        "Write a message first: an empty text cannot be sent."
    ]


def test_without_the_sending_service_the_page_says_sending_is_not_available(
    advisor: Any, student: Any, no_sending_service: None
) -> None:
    response = login(advisor.user).post(
        reverse("person-send", args=[student.pk]), {"body": "Hello"}, follow=True
    )
    assert response.status_code == 200
    assert "Sending is not available yet." in response.content.decode()
    assert not Message.objects.exists()


def test_a_valid_text_is_handed_to_the_sending_service(
    advisor: Any, student: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def message_send(**kwargs: Any) -> Message:
        calls.append(kwargs)
        return Message.objects.create(
            direction=Direction.OUTBOUND,
            sender=kwargs["sender"],
            recipient=kwargs["recipient"],
            channel=Channel.SMS,
            body=kwargs["body"],
        )

    monkeypatch.setattr(messaging_services, "message_send", message_send, raising=False)
    response = login(advisor.user).post(
        reverse("person-send", args=[student.pk]), {"body": "Hello Sam"}
    )
    assert response.status_code == 302
    assert calls == [{"sender": advisor, "recipient": student, "body": "Hello Sam"}]


def test_system_numbers_show_as_system_on_the_staff_members_own_profile(
    advisor: Any, config: Any
) -> None:
    held = assignments.assignment(advisor)
    page = login(advisor.user).get(reverse("person-detail", args=[advisor.pk])).content.decode()
    row = page.split(f'id="phone-{held.phone_id}"')[1].split("</tr>")[0]
    assert "<td>System</td>" in row
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
