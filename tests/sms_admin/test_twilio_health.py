"""The Twilio tab's health line (C9): "last status callback received" is when the status webhook
last accepted a correctly signed request, as recorded by the webhook itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging.models import Channel, Direction, Message, Status
from sms_admin import services as sms_admin_services
from sms_admin.models import WebhookKind, WebhookReceipt
from tests.twilio_bridge.webhook_client import STATUS_PATH, World, signed_post, status_params

LONG_AGO = datetime(2020, 1, 2, 3, 4, tzinfo=UTC)


def twilio_tab(user: Any) -> Any:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("sms-config-twilio"))
    assert response.status_code == 200
    return response


def shown(moment: datetime) -> str:
    return f"last status callback received {timezone.localtime(moment):%Y-%m-%d %H:%M %Z}."


def test_a_signed_status_callback_through_the_webhook_updates_the_twilio_tab(
    admin_user: Any, config: Any
) -> None:
    world = World()
    text = world.outbound_text()
    WebhookReceipt.objects.create(kind=WebhookKind.STATUS, last_received_at=LONG_AGO)
    assert shown(LONG_AGO) in twilio_tab(admin_user).content.decode()
    before = timezone.now()

    response = signed_post(Client(), STATUS_PATH, status_params(text.twilio_sid, "delivered"))

    assert response.status_code == 204
    page = twilio_tab(admin_user)
    at = page.context["health"].last_status_callback_at
    assert at is not None and at >= before
    line = page.content.decode().split('id="health-line">')[1].split("</dd>")[0]
    assert shown(at) in line
    assert shown(LONG_AGO) not in line


def test_a_forged_status_callback_leaves_the_twilio_tab_as_it_was(
    admin_user: Any, config: Any
) -> None:
    world = World()
    text = world.outbound_text()
    WebhookReceipt.objects.create(kind=WebhookKind.STATUS, last_received_at=LONG_AGO)

    response = signed_post(
        Client(), STATUS_PATH, status_params(text.twilio_sid, "delivered"), signature="forged"
    )

    assert response.status_code == 403
    assert shown(LONG_AGO) in twilio_tab(admin_user).content.decode()


def test_a_delivered_text_without_any_callback_is_not_taken_for_one(
    admin_user: Any, config: Any
) -> None:
    world = World()
    world.outbound_text(status=Status.DELIVERED)
    Message.objects.create(
        direction=Direction.OUTBOUND,
        channel=Channel.SMS,
        body="marked by hand",
        status=Status.UNDELIVERED,
    )

    page = twilio_tab(admin_user).content.decode()

    assert "no status callback received yet." in page


def test_an_inbound_webhook_is_not_a_status_callback(admin_user: Any, config: Any) -> None:
    sms_admin_services.webhook_receipt_record(kind=WebhookKind.INBOUND)
    assert "no status callback received yet." in twilio_tab(admin_user).content.decode()


def test_the_receipt_is_written_at_most_once_per_interval_per_process(db: Any) -> None:
    assert sms_admin_services.webhook_receipt_record(kind=WebhookKind.STATUS)
    first = WebhookReceipt.objects.get(kind=WebhookKind.STATUS).last_received_at

    assert not sms_admin_services.webhook_receipt_record(kind=WebhookKind.STATUS)
    assert WebhookReceipt.objects.get(kind=WebhookKind.STATUS).last_received_at == first
    assert sms_admin_services.webhook_receipt_record(kind=WebhookKind.STATUS, force=True)
    assert WebhookReceipt.objects.get(kind=WebhookKind.STATUS).last_received_at >= first
    assert WebhookReceipt.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_upgrading_moves_recorded_receipts_from_the_bridge_to_sms_admin() -> None:
    before = [("sms_admin", "0003_webhook_receipt"), ("twilio_bridge", "0001_webhook_receipt")]
    after = [("twilio_bridge", "0002_webhook_receipt_moved_to_sms_admin")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old_apps.get_model("twilio_bridge", "WebhookReceipt").objects.create(
        kind="status", last_received_at=LONG_AGO
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)

    new_apps = executor.loader.project_state(after).apps
    moved = new_apps.get_model("sms_admin", "WebhookReceipt").objects.get(kind="status")
    assert moved.last_received_at == LONG_AGO
    assert "twilio_bridge_webhookreceipt" not in connection.introspection.table_names()

    # Back to the latest state for the tests that follow.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
