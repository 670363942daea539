"""The SMS Configuration page through Django's test client: permissions, tab saves, field
errors, the Phone Number Usage grid and its delete (C1-C10, S8)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from people.models import PersonPhone
from sms_admin.models import (
    ConfigurationChange,
    MonthlyUsage,
    SenderAssignment,
    SenderNumber,
    SmsConfiguration,
)
from sms_admin.pool import month_key as institution_month
from tests import factories
from tests.factories import assignments

ADMIN_PAGES = [
    "sms-config-general",
    "sms-config-email",
    "sms-config-twilio",
    "sms-config-history",
]


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(name: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_staff_who_are_not_administrators_get_the_403_page(name: str, advisor: Any) -> None:
    response = login(advisor.user).get(reverse(name))
    assert response.status_code == 403
    assert b"Only administrators may open this page." in response.content


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_administrators_see_every_tab(name: str, admin_user: Any, config: Any) -> None:
    response = login(admin_user).get(reverse(name))
    assert response.status_code == 200
    assert b'aria-current="page"' in response.content


def test_saving_general_settings_changes_the_configuration_and_records_history(
    admin_user: Any, config: SmsConfiguration, cell: Any
) -> None:
    faculty = factories.RoleFactory(code="faculty")
    advisor_role = config.permitted_roles.get()
    response = login(admin_user).post(
        reverse("sms-config-general"),
        {
            "student_sms_default": "opted_out",
            "staff_sms_default": "opted_in",
            "default_sms_phone_type": cell.pk,
            "permitted_roles": [advisor_role.pk, faculty.pk],
            "opt_out_scope": "this_phone",
            "sms_max_length": 500,
        },
    )
    assert response.status_code == 302
    config.refresh_from_db()
    assert config.student_sms_default == "opted_out"
    assert config.sms_max_length == 500
    assert set(config.permitted_roles.values_list("code", flat=True)) == {"advisor", "faculty"}
    change = ConfigurationChange.objects.get(field="student_sms_default")
    assert (change.old_value, change.new_value, change.changed_by) == (
        "opted_in",
        "opted_out",
        admin_user,
    )


def test_an_out_of_range_max_length_is_shown_next_to_its_field_and_nothing_is_saved(
    admin_user: Any, config: SmsConfiguration
) -> None:
    response = login(admin_user).post(
        reverse("sms-config-general"),
        {
            "student_sms_default": "opted_out",
            "staff_sms_default": "opted_in",
            "opt_out_scope": "all_phones",
            "sms_max_length": 5000,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["sms_max_length"]
    config.refresh_from_db()
    assert config.student_sms_default == "opted_in"


def test_student_roles_are_not_offered_as_permitted_roles(
    admin_user: Any, config: SmsConfiguration
) -> None:
    student_role = factories.RoleFactory(code="student", kind="student")
    response = login(admin_user).post(
        reverse("sms-config-general"),
        {
            "student_sms_default": "opted_in",
            "staff_sms_default": "opted_in",
            "opt_out_scope": "all_phones",
            "sms_max_length": 1000,
            "permitted_roles": [student_role.pk],
        },
    )
    assert response.status_code == 200
    assert "permitted_roles" in response.context["form"].errors
    assert not config.permitted_roles.filter(code="student").exists()


def test_an_unknown_placeholder_is_refused_at_save_time_with_the_available_ones(
    admin_user: Any, config: SmsConfiguration
) -> None:
    response = login(admin_user).post(
        reverse("sms-config-email"),
        {"reply_notification_subject": "Reply from {student}", "reply_notification_body": "x"},
    )
    assert response.status_code == 200
    error = response.context["form"].errors["reply_notification_subject"][0]
    assert "Unknown placeholder {student}" in error
    assert "{student_name}" in error
    config.refresh_from_db()
    assert "{student}" not in config.reply_notification_subject


def test_a_valid_template_is_saved_and_previewed_with_sample_values(
    admin_user: Any, config: SmsConfiguration
) -> None:
    client = login(admin_user)
    response = client.post(
        reverse("sms-config-email"),
        {
            "reply_notification_subject": "{student_name} answered",
            "reply_notification_body": "Hi {staff_name}: {reply_text}",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("sms-config-email")).content.decode()
    assert "Sam Student answered" in page
    assert "Hi Alex Advisor: Yes, Tuesday at 10 works for me." in page


def test_a_negative_limit_saved_by_a_superuser_is_shown_next_to_the_field(
    superuser: Any, config: SmsConfiguration
) -> None:
    response = login(superuser).post(
        reverse("sms-config-twilio"), {"sms_message_limit": -5, "sms_phone_number_limit": 3}
    )
    assert response.status_code == 200
    assert response.context["limits"].errors["sms_message_limit"] == [
        "The limit cannot be negative; enter 0 or more."
    ]
    config.refresh_from_db()
    assert config.sms_phone_number_limit == 5


def test_a_superuser_changes_the_provisioned_limits(
    superuser: Any, config: SmsConfiguration
) -> None:
    response = login(superuser).post(
        reverse("sms-config-twilio"), {"sms_message_limit": 250, "sms_phone_number_limit": 9}
    )
    assert response.status_code == 302
    config.refresh_from_db()
    assert (config.sms_message_limit, config.sms_phone_number_limit) == (250, 9)


def test_other_administrators_see_the_limits_read_only_and_cannot_post_them(
    admin_user: Any, config: SmsConfiguration
) -> None:
    client = login(admin_user)
    page = client.get(reverse("sms-config-twilio")).content.decode()
    assert 'name="sms_message_limit"' in page and "disabled" in page
    assert "Save limits" not in page
    response = client.post(
        reverse("sms-config-twilio"), {"sms_message_limit": 99999, "sms_phone_number_limit": 99}
    )
    assert response.status_code == 403
    config.refresh_from_db()
    assert config.sms_message_limit == 10000


def test_the_twilio_tab_shows_the_meters_and_never_the_auth_token(
    admin_user: Any, config: SmsConfiguration, settings: Any
) -> None:
    year, month = institution_month()
    MonthlyUsage.objects.create(year=year, month=month, sent=42)
    assignments.assignment()
    page = login(admin_user).get(reverse("sms-config-twilio")).content.decode()
    assert "42 / 10000" in page
    assert "1 / 5" in page
    assert settings.TWILIO_ACCOUNT_SID in page
    assert settings.TWILIO_AUTH_TOKEN not in page


def test_the_sent_meter_is_zero_when_this_month_has_no_usage_row(
    admin_user: Any, config: SmsConfiguration
) -> None:
    MonthlyUsage.objects.create(year=2001, month=1, sent=777)
    page = login(admin_user).get(reverse("sms-config-twilio")).content.decode()
    assert "0 / 10000" in page


def test_the_usage_grid_searches_by_person_and_number(
    admin_user: Any, config: SmsConfiguration
) -> None:
    kept = assignments.assignment(factories.staff(first_name="Zelda", last_name="Quist"))
    other = assignments.assignment(factories.staff(first_name="Bob", last_name="Other"))
    client = login(admin_user)
    by_name = client.get(reverse("sms-config-twilio"), {"q": "zelda"}).context["page"]
    assert [row.pk for row in by_name] == [kept.pk]
    number = other.sender_number.number
    by_number = client.get(reverse("sms-config-twilio"), {"q": number[-6:]}).context["page"]
    assert [row.pk for row in by_number] == [other.pk]


def test_deleting_an_assignment_releases_it_and_soft_deletes_the_system_phone(
    admin_user: Any, config: SmsConfiguration
) -> None:
    held = assignments.assignment()
    response = login(admin_user).post(reverse("sms-assignment-delete", args=[held.pk]))
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.released_at is not None
    assert held.released_by == admin_user
    assert PersonPhone.objects.get(pk=held.phone_id).deleted is True
    assert not SenderAssignment.objects.filter(released_at__isnull=True).exists()


def test_deleting_an_assignment_is_refused_to_non_administrators(
    advisor: Any, config: SmsConfiguration
) -> None:
    held = assignments.assignment()
    response = login(advisor.user).post(reverse("sms-assignment-delete", args=[held.pk]))
    assert response.status_code == 403
    held.refresh_from_db()
    assert held.released_at is None


def test_deleting_an_assignment_needs_a_post_with_a_csrf_token(
    admin_user: Any, config: SmsConfiguration
) -> None:
    held = assignments.assignment()
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(reverse("sms-assignment-delete", args=[held.pk]))
    assert response.status_code == 403
    held.refresh_from_db()
    assert held.released_at is None


def grid_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("sms-config-twilio"))
    assert response.status_code == 200
    return len(queries)


def test_the_usage_grid_costs_the_same_queries_for_10_and_1000_assignments(
    admin_user: Any, config: SmsConfiguration
) -> None:
    client = login(admin_user)
    assignments.assignments_bulk(10)
    with_ten = grid_queries(client)
    assignments.assignments_bulk(990)
    assert SenderAssignment.objects.count() == 1000
    assert grid_queries(client) == with_ten


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("sms-sender-add", []),
        ("sms-assignment-delete", [1]),
        ("phone-edit", [1]),
        ("person-send", [1]),
    ],
)
def test_anonymous_posts_are_sent_to_the_login_page(name: str, args: list[int]) -> None:
    response = Client().post(reverse(name, args=args), {})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_adding_a_pool_number_normalises_it_and_refuses_a_duplicate(
    admin_user: Any, config: SmsConfiguration
) -> None:
    client = login(admin_user)
    client.post(reverse("sms-sender-add"), {"number": "(201) 555-0188"})
    assert SenderNumber.objects.filter(number="+12015550188").exists()
    response = client.post(reverse("sms-sender-add"), {"number": "+12015550188"}, follow=True)
    assert "+12015550188 is already in the pool." in response.content.decode()
    assert SenderNumber.objects.count() == 1


def pool_section(html: str) -> str:
    """The Twilio tab's Sender number pool section."""
    return html.split('id="pool"', 1)[1].split("</section>", 1)[0]


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("abc", "&#x27;abc&#x27; is not a phone number."),
        ("+1 201 555 0188", "+12015550188 is already in the pool."),
        ("", "Enter a phone number to add."),
    ],
)
@pytest.mark.parametrize("url_name", ["sms-config-twilio", "sms-sender-add"])
def test_a_refused_pool_number_is_shown_at_its_field_with_what_was_typed(
    admin_user: Any, config: SmsConfiguration, typed: str, reason: str, url_name: str
) -> None:
    factories.SenderNumberFactory(number="+12015550188")
    response = login(admin_user).post(reverse(url_name), {"save": "pool", "number": typed})

    assert response.status_code == 200
    html = response.content.decode()
    pool = pool_section(html)
    assert reason in pool
    assert 'class="flash' not in html  # nothing at the top of the page, far from the field
    field = re.search(r"<input[^>]*\bname=\"number\"[^>]*>", pool)
    assert field is not None
    assert f'value="{typed}"' in field[0] or (not typed and "value=" not in field[0])
    assert 'aria-invalid="true"' in field[0]
    assert 'aria-describedby="id_number_error"' in field[0]
    assert '<ul class="errorlist" id="id_number_error">' in pool
    assert SenderNumber.objects.count() == 1


def test_an_added_pool_number_is_announced_in_the_pool_section(
    admin_user: Any, config: SmsConfiguration
) -> None:
    client = login(admin_user)
    response = client.post(reverse("sms-config-twilio"), {"save": "pool", "number": "2015550177"})

    assert response.status_code == 302
    assert response["Location"] == reverse("sms-config-twilio") + "#pool"
    html = client.get(response["Location"]).content.decode()
    pool = pool_section(html)
    assert '<div role="status">' in pool
    assert "+12015550177 added to the pool." in pool
    assert html.count("added to the pool") == 1  # not at the top of the page as well
    assert SenderNumber.objects.filter(number="+12015550177").exists()


def test_other_news_stays_at_the_top_of_the_twilio_tab(
    admin_user: Any, config: SmsConfiguration
) -> None:
    client = login(admin_user)
    client.post(reverse("sms-config-twilio"), {"save": "pacing", "sender_segments_per_second": 2})
    html = client.get(reverse("sms-config-twilio")).content.decode()
    assert "Saved." in html.split('id="pool"')[0]
    assert "Saved." not in pool_section(html)


def test_staff_cannot_add_pool_numbers(advisor: Any, config: SmsConfiguration) -> None:
    response = login(advisor.user).post(reverse("sms-sender-add"), {"number": "+12015550188"})
    assert response.status_code == 403
    assert not SenderNumber.objects.exists()


def test_the_general_tab_never_offers_the_system_type_as_default(
    superuser: Any, config: Any
) -> None:
    from people.models import PhoneType

    system = PhoneType.objects.get(code="SYSTEM")
    client = login(superuser)

    response = client.post(
        reverse("sms-config-general"),
        {
            "student_sms_default": "opted_in",
            "staff_sms_default": "opted_in",
            "default_sms_phone_type": system.pk,
            "opt_out_scope": "all_phones",
            "sms_max_length": 1000,
        },
    )

    assert response.status_code == 200
    assert "default_sms_phone_type" in response.context["form"].errors
    config.refresh_from_db()
    assert config.default_sms_phone_type.code == "cell"


def test_a_superuser_saving_a_limit_beyond_the_column_gets_a_field_error(
    superuser: Any, config: Any
) -> None:
    response = login(superuser).post(
        reverse("sms-config-twilio"),
        {"sms_message_limit": 99_999_999_999_999, "sms_phone_number_limit": 5},
    )

    assert response.status_code == 200
    assert "sms_message_limit" in response.context["limits"].errors
    config.refresh_from_db()
    assert config.sms_message_limit != 99_999_999_999_999


def test_the_service_refuses_the_system_type_and_student_roles_whatever_the_interface(
    config: Any,
) -> None:
    import pytest as _pytest
    from django.core.exceptions import ValidationError

    from people.models import PhoneType
    from sms_admin import services
    from tests.factories import RoleFactory

    with _pytest.raises(ValidationError) as exc:
        services.configuration_update(
            actor=None,
            default_sms_phone_type=PhoneType.objects.get(code="SYSTEM"),
            permitted_roles=[RoleFactory(code="student", kind="student")],
        )

    assert set(exc.value.message_dict) == {"default_sms_phone_type", "permitted_roles"}
