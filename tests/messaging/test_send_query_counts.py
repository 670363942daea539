"""Queries per text on the send path are fixed (issue 4's benchmark): the API request, the
service it calls and the worker's task each cost the same few statements for every text, whatever
the recipient's phones, once the sender holds a number."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from messaging import services
from messaging.models import Message, Status
from people.models import Person
from sms_admin import pool
from tests.sending_support import Sandbox, pool_numbers, sandbox, student_with_phone

__all__ = ["sandbox"]

pytestmark = pytest.mark.usefixtures("config", "policy")


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    """The captured SQL without the savepoints of the test's own transaction."""
    return [
        q["sql"]
        for q in ctx.captured_queries
        if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))
    ]


def _ready(advisor: Person) -> None:
    pool_numbers(1)
    assert pool.sender_number_ensure(person=advisor) is not None
    warm, _ = student_with_phone("+12025550199")
    services.message_send(sender=advisor, recipient_id=warm.pk, body="creates the month's row")


# On PostgreSQL a single send's INSERT carries its inbox upsert (one statement); elsewhere the
# upsert follows it.
ON_POSTGRESQL = connection.vendor == "postgresql"
SEND_QUERIES = 4 if ON_POSTGRESQL else 5


def _sent_to_a_student(
    advisor: Person, capture: Any, bodies: tuple[str, ...]
) -> tuple[Person, list[Message], list[str]]:
    """The advisor ready to send, then `bodies` sent to one new student: the student, the texts
    and the statements of the sends (their tasks not published)."""
    with capture(execute=False):
        _ready(advisor)
    student, _ = student_with_phone()
    with capture(execute=False), CaptureQueriesContext(connection) as ctx:
        texts = [
            services.message_send(sender=advisor, recipient_id=student.pk, body=body)
            for body in bodies
        ]
    return student, texts, _statements(ctx)


def _prepared_statement(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [name])
        (statement,) = cursor.fetchone()
    return str(statement)


def test_a_send_costs_configuration_recipient_month_counter_insert_and_inbox_queries(
    advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _, (text,), sql = _sent_to_a_student(advisor, django_capture_on_commit_callbacks, ("Hi",))

    assert text.channel == "sms"
    assert len(sql) == SEND_QUERIES
    # One read answers the configuration, the permitted role (S1) and the held number (S2).
    assert 'FROM "sms_admin_smsconfiguration"' in sql[0]
    assert "sms_admin_senderassignment" in sql[0]
    assert "sms_admin_smsconfiguration_permitted_roles" in sql[0]
    # The insert, and the one upsert of the conversation's inbox summary (on PostgreSQL in the
    # same prepared statement: its EXECUTE carries the statement as a comment).
    assert 'INSERT INTO "messaging_message"' in sql[3]
    assert "INSERT INTO messaging_conversationsummary" in sql[-1]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="prepared statements: PostgreSQL")
def test_on_postgresql_a_single_sends_insert_and_inbox_upsert_are_one_prepared_statement(
    advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Planning the upsert cost the server more than running it, on every send; and it was a
    # round trip of its own.
    from messaging.models import ConversationSummary

    student, (first, second), sql = _sent_to_a_student(
        advisor, django_capture_on_commit_callbacks, ("first", "second")
    )

    inserts = [statement for statement in sql if "messaging_conversationsummary" in statement]
    assert len(inserts) == 2 and inserts[0].split("(")[0] == inserts[1].split("(")[0]
    statement = _prepared_statement(inserts[0].split("(")[0].removeprefix("EXECUTE "))
    assert 'AS WITH saved AS (INSERT INTO "messaging_message"' in statement
    assert "INSERT INTO messaging_conversationsummary" in statement
    # Both sends are counted in the one conversation, the second the latest.
    summary = ConversationSummary.objects.get(staff=advisor, person=student)
    assert summary.last_message_id == second.pk and second.pk > first.pk
    assert summary.last_answer_at == second.created_at


@pytest.mark.skipif(not ON_POSTGRESQL, reason="prepared statements: PostgreSQL")
def test_on_postgresql_a_cohort_batchs_inbox_upsert_is_one_prepared_statement(
    advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from messaging import inbox_services
    from messaging.models import ConversationSummary

    with django_capture_on_commit_callbacks(execute=False):
        _ready(advisor)
    students = [student_with_phone()[0] for _ in range(3)]
    with (
        django_capture_on_commit_callbacks(execute=False),
        CaptureQueriesContext(connection) as ctx,
    ):
        for body in ("first", "second"):
            services.message_send_bulk(
                sender=advisor, recipient_ids=[s.pk for s in students], body=body
            )

    name = inbox_services._PREPARED_UPSERTS[False][0]._name
    upserts = [sql for sql in _statements(ctx) if "messaging_conversationsummary" in sql]
    assert [sql.split("(")[0] for sql in upserts] == [f"EXECUTE {name}"] * 2
    statement = _prepared_statement(name)
    assert "INSERT INTO messaging_conversationsummary" in statement and "ANY($" in statement
    assert {
        s.person_id: s.last_message.body if s.last_message else None
        for s in ConversationSummary.objects.filter(staff=advisor, person__in=students)
    } == {s.pk: "second" for s in students}


def test_the_send_task_costs_five_queries_claim_read_configuration_recipient_and_accepted(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    from messaging import sending
    from twilio_bridge import gateway

    with django_capture_on_commit_callbacks(execute=False):
        _ready(advisor)
        student, _ = student_with_phone()
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")

    with CaptureQueriesContext(connection) as ctx:
        outcome = sending.sms_send(gateway=gateway.from_settings(), message_id=text.pk)

    sql = _statements(ctx)
    assert outcome.kind == "sent"
    assert Message.objects.get(pk=text.pk).status == Status.SENT
    assert len(sql) == 5
    # The claim is a conditional UPDATE, then one read of the claimed text with its people.
    assert sql[0].startswith('UPDATE "messaging_message"')
    assert sql[1].startswith("SELECT") and 'FROM "messaging_message"' in sql[1]


def test_a_redelivered_send_task_costs_one_query_and_sends_nothing(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    from messaging import sending
    from twilio_bridge import gateway

    with django_capture_on_commit_callbacks(execute=False):
        _ready(advisor)
        student, _ = student_with_phone()
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")
    assert sending.sms_send(gateway=gateway.from_settings(), message_id=text.pk).kind == "sent"
    requests_before = len(sandbox.creates())

    with CaptureQueriesContext(connection) as ctx:
        outcome = sending.sms_send(gateway=gateway.from_settings(), message_id=text.pk)

    assert outcome.kind == "skipped"
    assert len(_statements(ctx)) == 1
    assert len(sandbox.creates()) == requests_before


def test_the_api_send_request_costs_the_token_read_plus_the_send(
    advisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        _ready(advisor)
    student, _ = student_with_phone()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=advisor.user).key}")

    with (
        django_capture_on_commit_callbacks(execute=False),
        CaptureQueriesContext(connection) as ctx,
    ):
        response = api.post(
            "/api/v1/messages/", {"recipient": student.pk, "body": "Hi"}, format="json"
        )

    assert response.status_code == 201, response.content
    sql = _statements(ctx)
    # The token comes with its user and the user's person (S1 needs the person): one query.
    assert (
        'FROM "authtoken_token"' in sql[0]
        and 'FROM "people_person"' not in sql[0].split("WHERE")[1]
    )
    assert "people_person" in sql[0]
    assert len(sql) == 1 + SEND_QUERIES
