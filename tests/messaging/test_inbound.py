"""Inbound texts through the signed webhook: keywords (T4-T6), replies (T7, T8), C5 emails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from messaging import inbound
from messaging.models import Direction, Message, Status
from people.models import PhoneStatusChange, SmsStatus, StatusCause
from sms_admin import pool
from sms_admin import services as sms_admin_services
from sms_admin.models import OptOutScope, SmsConfiguration
from tests import factories
from tests.twilio_bridge.webhook_client import (
    INBOUND_PATH,
    World,
    inbound_params,
    new_sid,
    signed_post,
)

pytestmark = pytest.mark.django_db

OPT_OUT = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
OPT_IN = ["START", "YES", "UNSTOP"]
HELP = ["HELP", "INFO"]


def spellings(word: str) -> list[str]:
    return [word, word.lower(), word.title(), f"  {word.lower()} ", f"\n{word}\t"]


@pytest.fixture
def world(db: Any) -> World:
    return World()


@pytest.fixture
def text_in(
    world: World, django_capture_on_commit_callbacks: Any
) -> Callable[..., tuple[Any, Message]]:
    """Post an inbound text from the student's cell to the advisor's number; run on-commit work."""

    def post(
        body: str, *, opt_out_type: str = "", sid: str | None = None, from_number: str = ""
    ) -> tuple[Any, Message]:
        params = inbound_params(
            sid=sid or new_sid(),
            from_number=from_number or world.cell.number,
            to_number=world.sender_number.number,
            body=body,
            opt_out_type=opt_out_type,
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_post(Client(), INBOUND_PATH, params)
        assert response.status_code == 200
        return response, Message.objects.get(twilio_sid=params["MessageSid"])

    return post


def set_config(**fields: Any) -> None:
    SmsConfiguration.objects.update_or_create(pk=1, defaults=fields)


def statuses(world: World) -> tuple[str, str]:
    world.cell.refresh_from_db()
    world.home.refresh_from_db()
    return world.cell.sms_status, world.home.sms_status


def causes(world: World) -> list[str]:
    return list(
        PhoneStatusChange.objects.filter(phone__person=world.student)
        .order_by("id")
        .values_list("cause", flat=True)
    )


# --- Keywords -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [s for w in OPT_OUT for s in spellings(w)])
def test_an_opt_out_keyword_in_any_case_and_spacing_disables_all_the_persons_phones(
    world: World, text_in: Any, body: str
) -> None:
    response, message = text_in(body)

    assert statuses(world) == (SmsStatus.DISABLED, SmsStatus.DISABLED)
    assert causes(world) == [StatusCause.OPT_OUT, StatusCause.OPT_OUT]
    assert message.keyword == inbound.Keyword.STOP
    assert b"<Message>" not in response.content


def test_opt_out_with_the_this_phone_scope_disables_only_that_phone(
    world: World, text_in: Any
) -> None:
    set_config(opt_out_scope=OptOutScope.THIS_PHONE)

    text_in("STOP")

    assert statuses(world) == (SmsStatus.DISABLED, SmsStatus.DEFAULT)


@pytest.mark.parametrize("body", [s for w in OPT_IN for s in spellings(w)])
def test_an_opt_in_keyword_enables_only_the_phone_it_came_from(
    world: World, text_in: Any, body: str
) -> None:
    text_in("STOP")

    _, message = text_in(body)

    assert statuses(world) == (SmsStatus.ENABLED, SmsStatus.DISABLED)
    assert causes(world)[-1] == StatusCause.OPT_IN
    assert message.keyword == inbound.Keyword.START


@pytest.mark.parametrize("body", [s for w in HELP for s in spellings(w)])
def test_a_help_keyword_is_recorded_and_answered_with_the_help_text(
    world: World, text_in: Any, body: str
) -> None:
    set_config(help_text='Advising office: 555-0100 & "help desk" <weekdays>.')

    response, message = text_in(body)

    assert message.keyword == inbound.Keyword.HELP
    assert message.body == body
    assert response["Content-Type"].startswith("text/xml")
    assert (
        '<Message>Advising office: 555-0100 &amp; "help desk" &lt;weekdays&gt;.</Message>'
        in response.content.decode()
    )
    assert causes(world) == []
    assert mail.outbox == []


def test_the_help_answer_is_recorded_once_as_the_offices_outbound_text(
    world: World, text_in: Any
) -> None:
    set_config(help_text="Advising office: 555-0100.")
    sid = new_sid()

    _, question = text_in("HELP", sid=sid)
    text_in("HELP", sid=sid)  # Twilio retried the webhook: answered again, recorded once

    [answer] = Message.objects.filter(direction=Direction.OUTBOUND)
    assert (answer.sender_id, answer.recipient_id, answer.phone_id) == (
        None,
        world.student.pk,
        world.cell.pk,
    )
    assert (answer.destination, answer.from_number, answer.body) == (
        world.cell.number,
        world.sender_number.number,
        "Advising office: 555-0100.",
    )
    assert (answer.status, answer.keyword, answer.segments) == (Status.SENT, "help", 1)
    assert answer.created_at >= question.created_at
    assert pool.monthly_usage_summary().sent == 0  # not counted against the monthly limit


def test_the_help_answer_shows_in_the_advisors_conversation_and_the_report(
    world: World, text_in: Any, admin_user: Any
) -> None:
    set_config(help_text="Advising office: 555-0100.")
    text_in("HELP")
    answer = Message.objects.get(direction=Direction.OUTBOUND)
    world.advisor.user = factories.UserFactory(username="alex")
    world.advisor.save()
    staff = Client()
    staff.force_login(world.advisor.user)
    admin = Client()
    admin.force_login(admin_user)

    page = staff.get(f"/people/{world.student.pk}/").content.decode()
    report = admin.get("/messages/report/").content.decode()
    csv_text = b"".join(admin.get("/messages/report/csv/").streaming_content).decode()

    assert f'id="message-{answer.pk}"' in page
    assert "Automatic answer to HELP" in page
    assert "automatic answer to HELP" in report
    assert "automatic answer to HELP" in csv_text


def test_help_is_not_answered_when_twilio_advanced_opt_out_answers_it(
    world: World, text_in: Any
) -> None:
    set_config(advanced_opt_out=True)

    response, message = text_in("HELP", opt_out_type="HELP")

    assert message.keyword == inbound.Keyword.HELP
    assert b"<Message>" not in response.content
    assert response.content.decode().endswith("<Response></Response>")
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_help_is_not_answered_twice_when_twilio_says_it_answered_even_if_not_configured(
    world: World, text_in: Any
) -> None:
    # Given the setting still says Advanced Opt-Out is off, but Twilio adds OptOutType=HELP
    set_config(advanced_opt_out=False)

    response, message = text_in("HELP", opt_out_type="HELP")

    # Then Twilio's own answer is the only one the student gets
    assert message.keyword == inbound.Keyword.HELP
    assert b"<Message>" not in response.content


@pytest.mark.parametrize(
    "body",
    [
        "STOP please",
        "stop by my office",
        "Please stop",
        "STOP.",
        "yes I can come",
        "Yes!",
        "help me with my FAFSA",
        "info about the deadline?",
        "start date?",
        "",
    ],
)
def test_a_keyword_inside_a_sentence_is_an_ordinary_message(
    world: World, text_in: Any, body: str
) -> None:
    world.outbound_text()  # so that this is a reply, which changes no status

    response, message = text_in(body)

    assert message.keyword == ""
    assert message.is_reply is True
    assert statuses(world) == (SmsStatus.ENABLED, SmsStatus.DEFAULT)
    assert causes(world) == []
    assert b"<Message>" not in response.content
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("opt_out_type", "body", "expected"),
    [
        ("STOP", "Arrêtez", (SmsStatus.DISABLED, SmsStatus.DISABLED)),
        ("stop", "no more texts", (SmsStatus.DISABLED, SmsStatus.DISABLED)),
        ("START", "Commencer", (SmsStatus.ENABLED, SmsStatus.DEFAULT)),
        ("HELP", "Aide", (SmsStatus.ENABLED, SmsStatus.DEFAULT)),
    ],
)
def test_twilios_opt_out_type_alone_decides_the_keyword(
    world: World, text_in: Any, opt_out_type: str, body: str, expected: tuple[str, str]
) -> None:
    if opt_out_type == "START":
        world.cell.sms_status = SmsStatus.DISABLED
        world.cell.save()

    _, message = text_in(body, opt_out_type=opt_out_type)

    assert message.keyword == opt_out_type.lower()
    assert statuses(world) == expected
    assert mail.outbox == []


def test_stop_then_start_then_stop_leaves_the_phone_disabled(world: World, text_in: Any) -> None:
    text_in("STOP")
    text_in("START")
    text_in("STOP")

    assert statuses(world) == (SmsStatus.DISABLED, SmsStatus.DISABLED)
    assert causes(world) == [
        StatusCause.OPT_OUT,
        StatusCause.OPT_OUT,
        StatusCause.OPT_IN,
        StatusCause.OPT_OUT,
    ]


def test_stop_from_a_number_shared_by_two_people_opts_out_both(world: World, text_in: Any) -> None:
    from tests import factories

    sibling = factories.student(first_name="Kim", last_name="Student")
    shared = factories.PhoneFactory(person=sibling, number=world.cell.number)

    text_in("STOP")

    shared.refresh_from_db()
    assert shared.sms_status == SmsStatus.DISABLED


def test_a_keyword_never_notifies_the_staff_member(world: World, text_in: Any) -> None:
    world.outbound_text()

    for body in ("STOP", "START", "HELP"):
        text_in(body)

    assert mail.outbox == []


# --- Replies and student-initiated texts ------------------------------------------------------


def test_a_reply_joins_the_staff_members_conversation_and_changes_no_status(
    world: World, text_in: Any
) -> None:
    world.cell.sms_status = SmsStatus.DEFAULT
    world.cell.save()
    world.outbound_text()

    _, message = text_in("Tuesday works")

    assert message.direction == Direction.INBOUND
    assert message.status == Status.RECEIVED
    assert message.sender == world.student
    assert message.recipient == world.advisor
    assert message.phone == world.cell
    assert message.from_number == world.cell.number
    assert message.destination == world.sender_number.number
    assert message.is_reply is True
    assert statuses(world) == (SmsStatus.DEFAULT, SmsStatus.DEFAULT)
    assert causes(world) == []


def test_a_student_initiated_text_enables_that_phone(world: World, text_in: Any) -> None:
    world.cell.sms_status = SmsStatus.DEFAULT
    world.cell.save()

    _, message = text_in("Hi, can I book an appointment?")

    assert message.is_reply is False
    assert statuses(world) == (SmsStatus.ENABLED, SmsStatus.DEFAULT)
    assert causes(world) == [StatusCause.STUDENT_INITIATED]


def test_a_student_initiated_text_never_lifts_sms_disabled(world: World, text_in: Any) -> None:
    world.cell.sms_status = SmsStatus.DISABLED
    world.cell.save()

    text_in("Hi, can I book an appointment?")

    assert statuses(world) == (SmsStatus.DISABLED, SmsStatus.DEFAULT)
    assert causes(world) == []


def test_a_text_after_the_reply_window_is_student_initiated(world: World, text_in: Any) -> None:
    world.cell.sms_status = SmsStatus.DEFAULT
    world.cell.save()
    old = world.outbound_text()
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))

    _, message = text_in("Sorry for the late answer")

    assert message.is_reply is False
    assert statuses(world) == (SmsStatus.ENABLED, SmsStatus.DEFAULT)


def test_the_reply_window_is_configurable(world: World, text_in: Any) -> None:
    set_config(reply_window_days=7)
    world.cell.sms_status = SmsStatus.DEFAULT
    world.cell.save()
    recent = world.outbound_text()
    Message.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=10))

    _, message = text_in("Hello again")

    assert message.is_reply is False


def test_a_text_after_a_failed_text_is_not_a_reply(world: World, text_in: Any) -> None:
    world.outbound_text(status=Status.FAILED)

    _, message = text_in("Hello?")

    assert message.is_reply is False


def test_a_text_from_an_unknown_number_is_recorded_and_visible(world: World, text_in: Any) -> None:
    _, message = text_in("Who is this?", from_number="+14155550199")

    assert message.sender is None
    assert message.phone is None
    assert message.recipient == world.advisor
    assert message.from_number == "+14155550199"
    assert Message.objects.filter(direction=Direction.INBOUND, sender__isnull=True).count() == 1
    assert len(mail.outbox) == 1
    assert "Unknown sender +14155550199" in mail.outbox[0].body


def test_a_text_from_a_short_code_or_name_is_recorded_with_its_raw_sender(
    world: World, text_in: Any
) -> None:
    _, message = text_in("Your code is 1234", from_number="CARRIER")

    assert message.from_number == "CARRIER"
    assert message.sender is None


def test_a_text_to_a_number_nobody_holds_is_recorded_without_a_notification(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    params = inbound_params(
        sid=new_sid(), from_number=world.cell.number, to_number="+13035550100", body="Hi"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(Client(), INBOUND_PATH, params)

    assert response.status_code == 200
    message = Message.objects.get(twilio_sid=params["MessageSid"])
    assert message.recipient is None
    assert message.sender == world.student
    assert mail.outbox == []


def test_the_same_message_sid_twice_is_recorded_once_with_one_effect(
    world: World, text_in: Any
) -> None:
    world.cell.sms_status = SmsStatus.DEFAULT
    world.cell.save()
    sid = new_sid()

    text_in("Hi there", sid=sid)
    text_in("Hi there", sid=sid)

    assert Message.objects.filter(twilio_sid=sid).count() == 1
    assert causes(world) == [StatusCause.STUDENT_INITIATED]
    assert len(mail.outbox) == 1


def test_a_retried_help_is_answered_again(world: World, text_in: Any) -> None:
    sid = new_sid()
    text_in("HELP", sid=sid)

    response, _ = text_in("HELP", sid=sid)

    assert b"<Message>" in response.content


# --- Reply notification (C5) ------------------------------------------------------------------


def test_a_reply_emails_the_staff_member_from_the_default_template(
    world: World, text_in: Any
) -> None:
    world.outbound_text()

    _, message = text_in('Yes, "Tuesday" at 10 works + thanks ✓')

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["alex.advisor@example.edu"]
    assert email.subject == "Sam Student replied to your text"
    when = timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M")
    assert email.body == (
        "Hello Alex Advisor,\n\n"
        f"Sam Student replied to your text at {when}:\n\n"
        '"Yes, "Tuesday" at 10 works + thanks ✓"\n\n'
        "Read and answer the conversation here: "
        f"http://127.0.0.1:8000/people/{world.student.pk}/#conversation\n"
    )


def test_the_reply_email_uses_the_configured_templates(
    world: World, text_in: Any, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = "https://sms.example.edu"
    sms_admin_services.configuration_update(
        actor=None,
        reply_notification_subject="Text from {student_name}: {reply_text}",
        reply_notification_body="{staff_name}: {student_name} wrote {reply_text} -> "
        "{conversation_link}",
    )
    world.outbound_text()

    text_in("See you\nthen")

    email = mail.outbox[0]
    assert email.subject == "Text from Sam Student: See you then"
    assert email.body == (
        "Alex Advisor: Sam Student wrote See you\nthen -> "
        f"https://sms.example.edu/people/{world.student.pk}/#conversation"
    )


def test_a_template_that_does_not_render_is_refused_when_saved(world: World) -> None:
    with pytest.raises(ValidationError):
        sms_admin_services.configuration_update(
            actor=None, reply_notification_body="Hi {staff_name}, {student} wrote"
        )

    assert "{student}" not in sms_admin_services.configuration_get().reply_notification_body


def test_a_stored_template_broken_outside_the_app_falls_back_to_the_default(
    world: World, text_in: Any
) -> None:
    set_config(reply_notification_subject="Reply from {student_name", reply_notification_body="{")
    world.outbound_text()

    text_in("ok")

    assert mail.outbox[0].subject == "Sam Student replied to your text"
    assert "Hello Alex Advisor" in mail.outbox[0].body


def test_an_opt_out_message_sends_no_reply_notification(world: World, text_in: Any) -> None:
    world.outbound_text()

    text_in("STOP")

    assert mail.outbox == []


def test_a_staff_member_without_an_email_gets_no_notification(world: World, text_in: Any) -> None:
    world.advisor.email = ""
    world.advisor.save()
    world.outbound_text()

    _, message = text_in("Thanks")

    assert message.is_reply is True
    assert mail.outbox == []


def test_the_reply_notification_is_queued_for_a_worker_and_never_sent_inside_the_webhook(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    from messaging.models import OutboxEmail, OutboxKind, OutboxStatus

    world.outbound_text()
    params = inbound_params(
        sid=new_sid(),
        from_number=world.cell.number,
        to_number=world.sender_number.number,
        body="See you then",
        opt_out_type="",
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = signed_post(Client(), INBOUND_PATH, params)

    # No SMTP while Twilio waits: the request wrote the outbox row and queued its task.
    assert response.status_code == 200
    assert mail.outbox == []
    message = Message.objects.get(twilio_sid=params["MessageSid"])
    [row] = OutboxEmail.objects.all()
    assert (row.kind, row.payload, row.status) == (
        OutboxKind.REPLY_NOTIFICATION,
        {"message_id": message.pk},
        OutboxStatus.PENDING,
    )
    # The worker's run sends the one email.
    [queued] = callbacks
    queued()
    assert [m.to for m in mail.outbox] == [["alex.advisor@example.edu"]]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)


def test_a_keyword_text_writes_no_reply_notification(world: World, text_in: Any) -> None:
    from messaging.models import OutboxEmail

    world.outbound_text()
    text_in("Thanks")
    text_in("STOP")

    assert OutboxEmail.objects.count() == 1
    assert len(mail.outbox) == 1
