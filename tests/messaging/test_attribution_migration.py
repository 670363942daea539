"""Upgrading attributes the inbound texts recorded before attribution existed, by the same rule
(V2), reading and writing them a batch at a time."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps as current_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging.models import Attribution, Message

migration = importlib.import_module("messaging.migrations.0005_attribute_inbound_texts")

N = "+12015550100"
FREE = "+13035550100"
LENA = "+12025550100"
NOW = timezone.now()


def _text(model: Any, *, at: Any, **fields: Any) -> Any:
    message = model.objects.create(channel="sms", body="...", **fields)
    model.objects.filter(pk=message.pk).update(created_at=at)
    return message


@pytest.mark.django_db(transaction=True)
def test_upgrading_attributes_recorded_texts_by_the_rule() -> None:
    before = [("messaging", "0004_message_attribution")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    OldMessage = old.get_model("messaging", "Message")
    Person = old.get_model("people", "Person")
    advisor1 = Person.objects.create(first_name="Ada", last_name="One", src_system_id="A1")
    advisor3 = Person.objects.create(first_name="Cy", last_name="Three", src_system_id="A3")
    lena = Person.objects.create(first_name="Lena", last_name="Cho", src_system_id="S1")
    outbound = {"direction": "outbound", "from_number": N, "destination": LENA, "recipient": lena}
    inbound = {"direction": "inbound", "status": "received", "from_number": LENA, "sender": lena}
    to_advisor3 = {**inbound, "destination": N, "recipient": advisor3}
    # Before the upgrade the holder got everything: advisor3 held N whenever Lena wrote.
    first = _text(OldMessage, at=NOW - timedelta(days=45), is_reply=False, **to_advisor3)
    _text(OldMessage, at=NOW - timedelta(days=40), sender=advisor1, status="sent", **outbound)
    _text(OldMessage, at=NOW - timedelta(days=20), sender=advisor1, status="delivered", **outbound)
    reply = _text(OldMessage, at=NOW - timedelta(days=19), is_reply=False, **to_advisor3)
    _text(OldMessage, at=NOW - timedelta(days=10), sender=advisor3, status="failed", **outbound)
    late = _text(OldMessage, at=NOW - timedelta(days=1), is_reply=True, **to_advisor3)
    shared = _text(OldMessage, at=NOW, destination=FREE, recipient=None, **inbound)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    def stored(message: Any) -> tuple[Any, ...]:
        row = Message.objects.get(pk=message.pk)
        return row.attributed_to_id, row.recipient_id, row.attribution, row.is_reply

    # Lena's first text came before any text from N: advisor3's, as the holder.
    assert stored(first) == (advisor3.pk, advisor3.pk, Attribution.HOLDER, False)
    # Her reply to advisor1's text of the day before is advisor1's, not the holder's.
    assert stored(reply) == (advisor1.pk, advisor1.pk, Attribution.REPLY, True)
    # advisor3's text failed, advisor1's is 19 days older than this one: still advisor1's.
    assert stored(late) == (advisor1.pk, advisor1.pk, Attribution.REPLY, True)
    assert stored(shared) == (None, None, Attribution.SHARED, False)


def test_the_migration_reads_and_writes_a_batch_at_a_time(db: Any, monkeypatch: Any) -> None:
    def inbound(count: int) -> None:
        Message.objects.bulk_create(
            Message(direction="inbound", channel="sms", body="hi", from_number=LENA, destination=N)
            for _ in range(count)
        )

    def queries_to_attribute(count: int) -> int:
        Message.objects.all().delete()
        inbound(count)
        with CaptureQueriesContext(connection) as queries:
            migration.attribute_inbound_texts(current_apps, None)
        assert not Message.objects.filter(attribution="").exists()
        return len(queries)

    monkeypatch.setattr(migration, "BATCH_SIZE", 3)

    # Three batches either way: the configuration, then a read and a write per batch, then
    # the read that finds nothing left.
    assert queries_to_attribute(7) == queries_to_attribute(9) == 1 + 3 * 2 + 1
