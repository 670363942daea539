"""REST API v1 `sms-configuration/`: administrators read and change it; every change is recorded."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from people.models import PhoneType
from sms_admin.models import ConfigurationChange, SmsConfiguration
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/sms-configuration/"


def test_an_administrator_reads_the_configuration_with_the_contract_fields(
    admin_api: APIClient, config: SmsConfiguration
) -> None:
    response = admin_api.get(URL)
    assert response.status_code == 200
    data = response.json()
    assert {k: data[k] for k in ("student_sms_default", "staff_sms_default", "opt_out_scope")} == {
        "student_sms_default": "opted_in",
        "staff_sms_default": "opted_in",
        "opt_out_scope": "all_phones",
    }
    assert data["default_sms_phone_type"] == "cell"
    assert data["permitted_roles"] == ["advisor"]
    assert data["sms_max_length"] == 1000
    assert "{student_name}" in data["reply_notification_body"]
    assert {"sms_message_limit", "sms_phone_number_limit", "reply_notification_subject"} <= set(
        data
    )


def test_the_configuration_is_created_on_first_read(admin_api: APIClient) -> None:
    assert admin_api.get(URL).status_code == 200
    assert SmsConfiguration.objects.get().pk == 1


def test_an_administrator_changes_settings_and_each_change_is_recorded(
    admin_api: APIClient, admin_user: Any, config: SmsConfiguration
) -> None:
    factories.PhoneTypeFactory(code="home")
    factories.RoleFactory(code="coach")
    ConfigurationChange.objects.all().delete()
    response = admin_api.patch(
        URL,
        {
            "student_sms_default": "opted_out",
            "default_sms_phone_type": "home",
            "permitted_roles": ["advisor", "coach"],
            "sms_max_length": 320,
            "opt_out_scope": "this_phone",
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["student_sms_default"] == "opted_out"
    config.refresh_from_db()
    assert config.sms_max_length == 320
    assert config.default_sms_phone_type is not None
    assert config.default_sms_phone_type.code == "home"
    changes = {
        c.field: (c.old_value, c.new_value, c.changed_by) for c in ConfigurationChange.objects.all()
    }
    assert changes == {
        "student_sms_default": ("opted_in", "opted_out", admin_user),
        "default_sms_phone_type": ("cell", "home", admin_user),
        "permitted_roles": ("advisor", "advisor, coach", admin_user),
        "sms_max_length": ("1000", "320", admin_user),
        "opt_out_scope": ("all_phones", "this_phone", admin_user),
    }
    assert all(c.changed_at is not None for c in ConfigurationChange.objects.all())


def test_a_patch_that_changes_nothing_records_nothing(
    admin_api: APIClient, config: SmsConfiguration
) -> None:
    ConfigurationChange.objects.all().delete()
    response = admin_api.patch(
        URL, {"sms_max_length": 1000, "permitted_roles": ["advisor"]}, format="json"
    )
    assert response.status_code == 200
    assert not ConfigurationChange.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"student_sms_default": "enabled"}, "student_sms_default"),
        ({"staff_sms_default": None}, "staff_sms_default"),
        ({"opt_out_scope": "everything"}, "opt_out_scope"),
        ({"default_sms_phone_type": "pager"}, "default_sms_phone_type"),
        ({"permitted_roles": ["dean"]}, "permitted_roles"),
        ({"permitted_roles": ["student"]}, "permitted_roles"),
        ({"permitted_roles": "advisor"}, "permitted_roles"),
        ({"sms_max_length": 0}, "sms_max_length"),
        ({"sms_max_length": 1601}, "sms_max_length"),
        ({"sms_max_length": "long"}, "sms_max_length"),
        ({"sms_message_limit": "ten"}, "sms_message_limit"),
        ({"sms_message_limit": 2.5}, "sms_message_limit"),
        ({"sms_message_limit": -1}, "sms_message_limit"),
        ({"sms_message_limit": 10**12}, "sms_message_limit"),
        ({"sms_phone_number_limit": 10**12}, "sms_phone_number_limit"),
        ({"reply_window_days": 10**12}, "reply_window_days"),
        ({"reply_notification_body": "Hi {advisor}"}, "reply_notification_body"),
        ({"reply_notification_body": "Hi {staff_name"}, "reply_notification_body"),
        ({"reply_notification_body": "Hi {staff_name!r}"}, "reply_notification_body"),
        ({"reply_notification_body": "Hi {staff_name.__class__}"}, "reply_notification_body"),
        ({"reply_notification_subject": "Reply\nBcc: x@example.com"}, "reply_notification_subject"),
        ({"reply_notification_subject": "x" * 256}, "reply_notification_subject"),
    ],
)
def test_bad_configuration_is_refused_with_a_message_and_nothing_is_saved(
    superuser_api: APIClient, config: SmsConfiguration, body: dict[str, Any], field: str
) -> None:
    factories.RoleFactory(code="student", kind="student")
    before = SmsConfiguration.objects.values().get()
    ConfigurationChange.objects.all().delete()
    response = superuser_api.patch(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()[field]
    assert SmsConfiguration.objects.values().get() == before
    assert not ConfigurationChange.objects.exists()


def test_an_unknown_placeholder_message_lists_the_available_ones(
    admin_api: APIClient, config: SmsConfiguration
) -> None:
    response = admin_api.patch(URL, {"reply_notification_body": "{advisor}"}, format="json")
    message = response.json()["reply_notification_body"][0]
    assert "{advisor}" in message
    assert "{staff_name}" in message
    assert "{conversation_link}" in message


def test_only_a_superuser_changes_the_provisioned_limits(
    admin_api: APIClient, superuser_api: APIClient, superuser: Any, config: SmsConfiguration
) -> None:
    response = admin_api.patch(URL, {"sms_message_limit": 50}, format="json")
    assert response.status_code == 403
    assert "superuser" in response.json()["detail"]
    config.refresh_from_db()
    assert config.sms_message_limit == 10000

    response = superuser_api.patch(
        URL, {"sms_message_limit": 50, "sms_phone_number_limit": 2}, format="json"
    )
    assert response.status_code == 200
    config.refresh_from_db()
    assert (config.sms_message_limit, config.sms_phone_number_limit) == (50, 2)
    change = ConfigurationChange.objects.get(field="sms_message_limit")
    assert (change.old_value, change.new_value, change.changed_by) == ("10000", "50", superuser)


def test_an_administrator_may_send_the_unchanged_limits_back(
    admin_api: APIClient, config: SmsConfiguration
) -> None:
    response = admin_api.patch(
        URL, {"sms_message_limit": 10000, "sms_max_length": 500}, format="json"
    )
    assert response.status_code == 200
    config.refresh_from_db()
    assert config.sms_max_length == 500


def test_a_refused_limit_change_saves_none_of_the_other_changes(
    admin_api: APIClient, config: SmsConfiguration
) -> None:
    response = admin_api.patch(URL, {"sms_max_length": 500, "sms_message_limit": 5}, format="json")
    assert response.status_code == 403
    config.refresh_from_db()
    assert config.sms_max_length == 1000


def test_staff_students_and_strangers_may_not_read_or_change_the_configuration(
    advisor_api: APIClient, student_api: APIClient, config: SmsConfiguration
) -> None:
    for api in (advisor_api, student_api):
        assert api.get(URL).status_code == 403
        response = api.patch(URL, {"sms_max_length": 5}, format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == "Only administrators may do this."
    config.refresh_from_db()
    assert config.sms_max_length == 1000


def test_anonymous_requests_for_the_configuration_get_401(
    anon_api: APIClient, config: SmsConfiguration
) -> None:
    assert anon_api.get(URL).status_code == 401
    assert anon_api.patch(URL, {"sms_max_length": 5}, format="json").status_code == 401


def test_the_configuration_cannot_be_replaced_or_deleted(
    admin_api: APIClient, config: SmsConfiguration
) -> None:
    assert admin_api.put(URL, {}, format="json").status_code == 405
    assert admin_api.delete(URL).status_code == 405
    assert admin_api.post(URL, {}, format="json").status_code == 405


def test_the_default_phone_type_may_be_cleared(
    admin_api: APIClient, config: SmsConfiguration, cell: PhoneType
) -> None:
    response = admin_api.patch(URL, {"default_sms_phone_type": None}, format="json")
    assert response.status_code == 200
    config.refresh_from_db()
    assert config.default_sms_phone_type is None
    change = ConfigurationChange.objects.filter(field="default_sms_phone_type").first()
    assert change is not None
    assert (change.old_value, change.new_value) == ("cell", "")


def test_the_system_type_cannot_be_the_default_sms_type(
    admin_api: APIClient, config: SmsConfiguration
) -> None:
    response = admin_api.patch(URL, {"default_sms_phone_type": "SYSTEM"}, format="json")
    assert response.status_code == 400
    assert "System type" in response.json()["default_sms_phone_type"][0]
    config.refresh_from_db()
    assert config.default_sms_phone_type is not None
    assert config.default_sms_phone_type.code == "cell"


def test_the_digest_hours_and_the_price_per_segment_are_read_and_changed_through_the_api(
    admin_api: Any, config: Any
) -> None:
    changed = admin_api.patch(
        "/api/v1/sms-configuration/",
        {"unanswered_reply_hours": 8, "price_per_segment": "0.0079"},
        format="json",
    )
    refused = admin_api.patch(
        "/api/v1/sms-configuration/", {"price_per_segment": "-1"}, format="json"
    )

    assert changed.status_code == 200, changed.json()
    assert (changed.json()["unanswered_reply_hours"], changed.json()["price_per_segment"]) == (
        8,
        "0.0079",
    )
    assert refused.status_code == 400
    assert "price_per_segment" in refused.json()


def test_an_answer_to_help_longer_than_one_twilio_text_is_refused_and_nothing_is_saved(
    admin_api: Any, config: Any
) -> None:
    before = (config.help_text, config.reply_window_days)
    too_long = admin_api.patch(
        URL, {"help_text": "é" * 1601, "reply_window_days": 9}, format="json"
    )
    longest = admin_api.patch(URL, {"help_text": "h" * 1600}, format="json")

    assert too_long.status_code == 400
    assert too_long.json()["help_text"] == [
        "The answer to HELP is 1,601 characters; Twilio sends at most 1,600 in one text. "
        "Shorten it."
    ]
    assert longest.status_code == 200, longest.json()
    config.refresh_from_db()
    assert config.help_text == "h" * 1600
    # The refused request saved nothing, not even its valid field.
    assert config.reply_window_days == before[1] != 9
    assert before[0] != config.help_text
