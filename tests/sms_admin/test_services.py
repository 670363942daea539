"""sms_admin.services: configuration changes are validated and recorded (C5, C7, C8, C10)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from sms_admin import notifications, services
from sms_admin.models import ConfigurationChange, SenderNumber, SmsConfiguration
from tests import factories

pytestmark = pytest.mark.django_db


def test_each_changed_value_is_recorded_with_who_when_old_and_new(
    config: SmsConfiguration, admin_user: Any
) -> None:
    ConfigurationChange.objects.all().delete()
    services.configuration_update(
        actor=admin_user, staff_sms_default="opted_out", sms_max_length=160, help_text="Help!"
    )
    rows = ConfigurationChange.objects.order_by("field")
    assert [(c.field, c.old_value, c.new_value, c.changed_by) for c in rows] == [
        ("help_text", notifications_default_help(), "Help!", admin_user),
        ("sms_max_length", "1000", "160", admin_user),
        ("staff_sms_default", "opted_in", "opted_out", admin_user),
    ]
    assert all(c.changed_at for c in rows)


def notifications_default_help() -> str:
    from sms_admin.models import DEFAULT_HELP_TEXT

    return DEFAULT_HELP_TEXT


def test_an_unchanged_value_is_not_recorded(config: SmsConfiguration, admin_user: Any) -> None:
    ConfigurationChange.objects.all().delete()
    services.configuration_update(
        actor=admin_user, sms_max_length=1000, staff_sms_default="opted_in"
    )
    assert not ConfigurationChange.objects.exists()


def test_a_change_at_the_command_line_is_recorded_without_a_user(config: SmsConfiguration) -> None:
    services.configuration_update(actor=None, sms_phone_number_limit=9)
    change = ConfigurationChange.objects.get(field="sms_phone_number_limit")
    assert (change.old_value, change.new_value, change.changed_by) == ("5", "9", None)


def test_permitted_roles_are_recorded_as_sorted_codes(config: SmsConfiguration) -> None:
    coach = factories.RoleFactory(code="coach")
    advisor = factories.RoleFactory(code="advisor")
    services.configuration_update(actor=None, permitted_roles=[coach, advisor])
    change = ConfigurationChange.objects.filter(field="permitted_roles").first()
    assert change is not None
    assert (change.old_value, change.new_value) == ("advisor", "advisor, coach")


def test_an_administrator_who_is_not_a_superuser_cannot_change_the_limits(
    config: SmsConfiguration, admin_user: Any
) -> None:
    with pytest.raises(PermissionDenied):
        services.configuration_update(actor=admin_user, sms_message_limit=1)
    config.refresh_from_db()
    assert config.sms_message_limit == 10000


def test_a_superuser_changes_the_limits(config: SmsConfiguration, superuser: Any) -> None:
    services.configuration_update(actor=superuser, sms_message_limit=1, sms_phone_number_limit=0)
    config.refresh_from_db()
    assert (config.sms_message_limit, config.sms_phone_number_limit) == (1, 0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reply_notification_body": "{nope}"}, "reply_notification_body"),
        ({"reply_notification_subject": "{"}, "reply_notification_subject"),
        ({"reply_notification_subject": "Two\nlines"}, "reply_notification_subject"),
        ({"sms_max_length": 0}, "sms_max_length"),
        ({"sms_max_length": 1601}, "sms_max_length"),
    ],
)
def test_an_invalid_value_saves_nothing_and_records_nothing(
    config: SmsConfiguration, admin_user: Any, changes: dict[str, Any], field: str
) -> None:
    ConfigurationChange.objects.all().delete()
    before = SmsConfiguration.objects.values().get()
    with pytest.raises(ValidationError) as exc:
        services.configuration_update(actor=admin_user, staff_sms_default="opted_out", **changes)
    assert field in exc.value.message_dict
    assert SmsConfiguration.objects.values().get() == before
    assert not ConfigurationChange.objects.exists()


def test_the_default_templates_use_every_placeholder_and_render() -> None:
    from sms_admin.models import DEFAULT_REPLY_BODY, DEFAULT_REPLY_SUBJECT

    notifications.template_validate(DEFAULT_REPLY_SUBJECT)
    notifications.template_validate(DEFAULT_REPLY_BODY)
    for name in notifications.PLACEHOLDERS:
        assert "{" + name + "}" in DEFAULT_REPLY_BODY
    rendered = notifications.template_render(DEFAULT_REPLY_BODY, notifications.SAMPLE)
    assert "Alex Advisor" in rendered
    assert "{" not in rendered


def test_literal_braces_are_written_doubled() -> None:
    notifications.template_validate("Use {{braces}} for {student_name}")
    assert (
        notifications.template_render("{{x}} {student_name}", {"student_name": "Sam"}) == "{x} Sam"
    )


def test_a_sender_number_is_added_in_e164_once(db: Any) -> None:
    services.sender_number_add(number="(201) 555-0100")
    assert list(SenderNumber.objects.values_list("number", flat=True)) == ["+12015550100"]
    with pytest.raises(ValidationError) as exc:
        services.sender_number_add(number="+1 201 555 0100")
    assert "+12015550100 is already in the pool." in exc.value.message_dict["number"]
    with pytest.raises(ValidationError):
        services.sender_number_add(number="not a number")
    assert SenderNumber.objects.count() == 1
