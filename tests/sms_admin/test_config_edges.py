"""Rough edges of the SMS Configuration tabs, through Django's test client: saving with no
permitted role asks first, the history speaks in words, unchanged saves record nothing, the
reply template keeps its lines, the meters say how full they are."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from sms_admin import pool, services
from sms_admin.models import ConfigurationChange, MonthlyUsage, SmsConfiguration
from tests import factories
from tests.factories import assignments

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def general_form(config: SmsConfiguration, **changes: Any) -> dict[str, Any]:
    """The General Settings form as the browser posts it, with the stored values."""
    data: dict[str, Any] = {
        "student_sms_default": config.student_sms_default,
        "staff_sms_default": config.staff_sms_default,
        "default_sms_phone_type": config.default_sms_phone_type_id or "",
        "permitted_roles": [role.pk for role in config.permitted_roles.all()],
        "opt_out_scope": config.opt_out_scope,
        "sms_max_length": config.sms_max_length,
    }
    data.update(changes)
    return data


# --- no permitted role ----------------------------------------------------------------------


def test_saving_with_no_permitted_role_asks_first_and_saves_nothing(
    admin_user: Any, config: SmsConfiguration
) -> None:
    response = login(admin_user).post(
        reverse("sms-config-general"), general_form(config, permitted_roles=[], sms_max_length=9)
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "nobody will be able to send texts" in page
    assert "Nobody will be able to send texts." in page
    assert 'name="confirm_no_senders"' in page
    config.refresh_from_db()
    assert list(config.permitted_roles.values_list("code", flat=True)) == ["advisor"]
    assert config.sms_max_length == 1000
    assert not ConfigurationChange.objects.filter(changed_by=admin_user).exists()


def test_saving_with_no_permitted_role_and_the_confirmation_saves(
    admin_user: Any, config: SmsConfiguration
) -> None:
    response = login(admin_user).post(
        reverse("sms-config-general"),
        general_form(config, permitted_roles=[], confirm_no_senders="on"),
    )

    assert response.status_code == 302
    config.refresh_from_db()
    assert not config.permitted_roles.exists()
    change = ConfigurationChange.objects.get(changed_by=admin_user)
    assert (change.field, change.old_value, change.new_value) == ("permitted_roles", "advisor", "")


def test_the_confirmation_is_not_asked_while_a_role_is_checked(
    admin_user: Any, config: SmsConfiguration
) -> None:
    page = login(admin_user).get(reverse("sms-config-general")).content.decode()

    assert 'name="confirm_no_senders"' not in page


# --- the usage meters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "assigned", "sent_class", "assigned_class", "sent_state", "assigned_state"),
    [
        (10, 1, "level-ok", "level-ok", "1% of the limit used.", "20% of the limit used."),
        (
            800,
            4,
            "level-warn",
            "level-warn",
            "80% of the limit used: nearing the limit.",
            "80% of the limit used: nearing the limit.",
        ),
        (1000, 5, "level-full", "level-full", "The limit is reached.", "The limit is reached."),
    ],
)
def test_the_meters_say_how_full_they_are(
    admin_user: Any,
    config: SmsConfiguration,
    sent: int,
    assigned: int,
    sent_class: str,
    assigned_class: str,
    sent_state: str,
    assigned_state: str,
) -> None:
    services.configuration_update(actor=None, sms_message_limit=1000)
    year, month = pool.month_key()
    MonthlyUsage.objects.create(year=year, month=month, sent=sent)
    for _ in range(assigned):
        assignments.assignment()

    page = login(admin_user).get(reverse("sms-config-twilio")).content.decode()

    assert f'<div class="meter {sent_class}" id="sent-meter">' in page
    assert f'<div class="meter {assigned_class}" id="assigned-meter">' in page
    assert f'<p class="meter-state" id="sent-state">{sent_state}</p>' in page
    assert f'<p class="meter-state" id="assigned-state">{assigned_state}</p>' in page


# --- the change history ---------------------------------------------------------------------


def test_the_history_names_settings_and_values_in_words(
    admin_user: Any, config: SmsConfiguration, cell: Any
) -> None:
    faculty = factories.RoleFactory(code="faculty", name="Faculty members")
    landline = factories.PhoneTypeFactory(code="home", name="Home landline")
    client = login(admin_user)
    client.post(
        reverse("sms-config-general"),
        general_form(
            config,
            student_sms_default="opted_out",
            opt_out_scope="this_phone",
            sms_max_length=500,
            default_sms_phone_type=landline.pk,
            permitted_roles=[r.pk for r in config.permitted_roles.all()] + [faculty.pk],
        ),
    )
    services.configuration_update(actor=admin_user, advanced_opt_out=True)

    history = client.get(reverse("sms-config-history")).content.decode()
    rows = re.findall(r"<tr>(.*?)</tr>", history, re.S)
    cells = [
        found[2:]
        for found in (re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows)
        if found and found[1] == "admin"
    ]

    assert sorted(cells) == sorted(
        [
            ["Student SMS default status", "Opted in", "Opted out"],
            ["Opt-out scope", "All of the person&#x27;s phones", "Only the phone that opted out"],
            ["Maximum text length (smsMaxLength)", "1000", "500"],
            ["Default SMS phone type", "Cell", "Home landline"],
            ["Roles that can send SMS messages", "Advisor", "Advisor, Faculty members"],
            ["Twilio Advanced Opt-Out", "No", "Yes"],
        ]
    )
    for code in ("student_sms_default", "opted_out", "sms_max_length", "this_phone", "faculty"):
        assert code not in history


def test_the_history_words_pool_numbers_policies_and_empty_values(
    admin_user: Any, config: SmsConfiguration
) -> None:
    services.sender_number_add(number="+12015550777", actor=admin_user)
    services.configuration_update(actor=admin_user, default_sms_phone_type=None)

    history = login(admin_user).get(reverse("sms-config-history")).content.decode()

    assert "<td>Sender number pool</td><td>(none)</td><td>+12015550777</td>" in history
    assert "<td>Default SMS phone type</td><td>Cell</td><td>(none)</td>" in history


def test_saving_an_unchanged_general_tab_records_no_change(
    admin_user: Any, config: SmsConfiguration
) -> None:
    before = ConfigurationChange.objects.count()

    response = login(admin_user).post(reverse("sms-config-general"), general_form(config))

    assert response.status_code == 302
    assert ConfigurationChange.objects.count() == before


def test_saving_an_unchanged_email_tab_records_no_change(
    admin_user: Any, config: SmsConfiguration
) -> None:
    """The browser posts the textarea's lines with CRLF and the default body ends with a line
    break: neither is a change."""
    before = ConfigurationChange.objects.count()
    body = config.reply_notification_body.replace("\n", "\r\n")

    response = login(admin_user).post(
        reverse("sms-config-email"),
        {
            "reply_notification_subject": config.reply_notification_subject,
            "reply_notification_body": body,
        },
    )

    assert response.status_code == 302
    assert ConfigurationChange.objects.count() == before
    stored = config.reply_notification_body
    config.refresh_from_db()
    assert config.reply_notification_body == stored


def test_the_reply_template_keeps_its_lines_through_the_page(
    admin_user: Any, config: SmsConfiguration
) -> None:
    client = login(admin_user)
    subject = config.reply_notification_subject

    def save(body: str) -> int:
        return client.post(
            reverse("sms-config-email"),
            {"reply_notification_subject": subject, "reply_notification_body": body},
        ).status_code

    # A browser posts a textarea's "a", line break, "b" as CRLF.
    assert save("a\r\nb\r\n") == 302
    config.refresh_from_db()
    assert config.reply_notification_body == "a\nb\n"
    page = client.get(reverse("sms-config-email")).content.decode()
    assert re.search(r'<textarea name="reply_notification_body"[^>]*>\na\nb\n</textarea>', page)

    changes = ConfigurationChange.objects.count()
    assert save("a\r\nb\r\n") == 302
    assert ConfigurationChange.objects.count() == changes


def test_the_reply_template_keeps_its_lines_through_the_api(
    admin_api: Any, config: SmsConfiguration
) -> None:
    response = admin_api.patch(
        "/api/v1/sms-configuration/", {"reply_notification_body": "a\nb"}, format="json"
    )
    assert response.status_code == 200
    assert admin_api.get("/api/v1/sms-configuration/").json()["reply_notification_body"] == "a\nb"

    changes = ConfigurationChange.objects.count()
    for body in ("a\nb", "a\r\nb"):
        admin_api.patch(
            "/api/v1/sms-configuration/", {"reply_notification_body": body}, format="json"
        )
    assert ConfigurationChange.objects.count() == changes
    config.refresh_from_db()
    assert config.reply_notification_body == "a\nb"


@pytest.mark.django_db(transaction=True)
def test_upgrading_stores_a_crlf_template_with_lf_line_breaks() -> None:
    before = [("sms_admin", "0006_usage_alert")]
    after = [("sms_admin", "0007_multiline_line_endings")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old_apps.get_model("sms_admin", "SmsConfiguration").objects.update_or_create(
        pk=1, defaults={"reply_notification_body": "a\r\nb\r\n", "help_text": "x\ry"}
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)

    # The model as of that migration: later ones add columns the table does not have yet.
    upgraded = executor.loader.project_state(after).apps.get_model("sms_admin", "SmsConfiguration")
    config = upgraded.objects.get(pk=1)
    assert (config.reply_notification_body, config.help_text) == ("a\nb\n", "x\ny")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


# --- quiet hours ----------------------------------------------------------------------------


def test_quiet_hours_starting_and_ending_at_one_time_are_refused_at_the_fields(
    admin_user: Any, config: SmsConfiguration
) -> None:
    response = login(admin_user).post(
        reverse("sms-config-general"),
        general_form(config, quiet_hours_start="21:00", quiet_hours_end="21:00", sms_max_length=9),
    )

    assert response.status_code == 200
    page = response.content.decode()
    for name in ("quiet_hours_start", "quiet_hours_end"):
        error = page.split(f'id="id_{name}_error"')[1].split("</ul>")[0]
        assert services.QUIET_HOURS_EQUAL in error.replace("&#x27;", "'")
    config.refresh_from_db()
    assert config.sms_max_length == 1000
    assert (config.quiet_hours_start, config.quiet_hours_end) != (time(21), time(21))


def test_an_api_change_of_one_end_to_the_other_ends_time_is_refused(
    admin_api: Any, config: SmsConfiguration
) -> None:
    config.quiet_hours_end = time(8)
    config.save()

    refused = admin_api.patch(
        "/api/v1/sms-configuration/", {"quiet_hours_start": "08:00"}, format="json"
    )
    cleared = admin_api.patch(
        "/api/v1/sms-configuration/",
        {"quiet_hours_start": None, "quiet_hours_end": None},
        format="json",
    )

    assert refused.status_code == 400
    assert refused.json() == {"quiet_hours_start": [services.QUIET_HOURS_EQUAL]}
    assert cleared.status_code == 200, cleared.json()
