"""People pages through Django's test client: start page, phone edit, Person Phone data view,
prospect upload (P3, P5, P6, T10)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from people import services
from people.models import Person, PersonPhone, PhoneStatusChange
from tests import factories
from tests.factories import assignments


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["home", "person-phone-data", "prospect-upload"])
def test_anonymous_visitors_are_sent_to_the_login_page(name: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", ["person-phone-data", "prospect-upload"])
def test_the_admin_pages_refuse_staff_who_are_not_administrators(name: str, advisor: Any) -> None:
    response = login(advisor.user).get(reverse(name))
    assert response.status_code == 403
    assert b"Only administrators may open this page." in response.content


def test_students_with_a_login_get_the_403_page_on_the_start_page(student_person: Any) -> None:
    response = login(student_person.user).get(reverse("home"))
    assert response.status_code == 403
    assert b"Only staff members may open this page." in response.content


def test_the_start_page_searches_people_by_name_and_id(advisor: Any) -> None:
    factories.student(first_name="Zora", last_name="Neale", src_system_id="STU-77")
    factories.student(first_name="Other", last_name="Person")
    client = login(advisor.user)
    assert [p.first_name for p in client.get(reverse("home"), {"q": "zora"}).context["page"]] == [
        "Zora"
    ]
    assert [p.first_name for p in client.get(reverse("home"), {"q": "STU-77"}).context["page"]] == [
        "Zora"
    ]


def test_editing_a_phone_status_and_verified_mark_records_the_change(advisor: Any) -> None:
    phone = factories.PhoneFactory(person=factories.student())
    response = login(advisor.user).post(
        reverse("phone-edit", args=[phone.pk]),
        {"sms_status": "enabled", "shown_status": "default", "verified": "on"},
    )
    assert response.status_code == 302
    phone.refresh_from_db()
    assert phone.sms_status == "enabled"
    assert phone.verified_by == advisor.user
    change = PhoneStatusChange.objects.get(phone=phone)
    assert (change.old_status, change.new_status, change.cause, change.changed_by) == (
        "default",
        "enabled",
        "manual",
        advisor.user,
    )


def test_a_form_opened_before_a_stop_does_not_lift_sms_disabled(advisor: Any) -> None:
    # Given a page showing the phone as SMS Default, then a STOP disables it (T4)
    phone = factories.PhoneFactory(person=factories.student())
    services.phone_status_set(phone=phone, status="disabled", cause="opt_out")
    # When the advisor saves the stale form, changing only the verified mark
    client = login(advisor.user)
    response = client.post(
        reverse("phone-edit", args=[phone.pk]),
        {"sms_status": "default", "shown_status": "default", "verified": "on"},
    )
    # Then the phone stays disabled (T9) and the verified mark is saved
    assert response.status_code == 302
    phone.refresh_from_db()
    assert phone.sms_status == "disabled"
    assert phone.verified_by == advisor.user
    assert PhoneStatusChange.objects.filter(phone=phone).count() == 1


def test_a_status_changed_since_the_page_loaded_is_not_overwritten(advisor: Any) -> None:
    phone = factories.PhoneFactory(person=factories.student())
    services.phone_status_set(phone=phone, status="disabled", cause="opt_out")
    client = login(advisor.user)
    response = client.post(
        reverse("phone-edit", args=[phone.pk]),
        {"sms_status": "enabled", "shown_status": "default"},
        follow=True,
    )
    phone.refresh_from_db()
    assert phone.sms_status == "disabled"
    assert "changed to SMS Disabled since you opened the page" in response.content.decode()


def test_an_unknown_status_changes_nothing(advisor: Any) -> None:
    phone = factories.PhoneFactory(person=factories.student())
    login(advisor.user).post(reverse("phone-edit", args=[phone.pk]), {"sms_status": "maybe"})
    phone.refresh_from_db()
    assert phone.sms_status == "default"
    assert not PhoneStatusChange.objects.exists()


def test_students_cannot_edit_phones(student_person: Any) -> None:
    phone = factories.PhoneFactory(person=student_person)
    response = login(student_person.user).post(
        reverse("phone-edit", args=[phone.pk]), {"sms_status": "disabled"}
    )
    assert response.status_code == 403
    phone.refresh_from_db()
    assert phone.sms_status == "default"


def test_the_data_view_filters_on_deleted(admin_user: Any) -> None:
    held = assignments.assignment()
    gone = factories.PhoneFactory(deleted=True)
    client = login(admin_user)
    active = client.get(reverse("person-phone-data"), {"deleted": "false"})
    assert [p.pk for p in active.context["page"]] == [held.phone_id]
    content = active.content.decode()
    assert held.phone.src_system_id in content and "AVISO.SYSTEM" in content
    deleted = client.get(reverse("person-phone-data"), {"deleted": "true"}).context["page"]
    assert [p.pk for p in deleted] == [gone.pk]
    every = client.get(reverse("person-phone-data")).context["page"]
    assert {p.pk for p in every} == {held.phone_id, gone.pk}


def data_view_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("person-phone-data"), {"deleted": "false"})
    assert response.status_code == 200
    return len(queries)


def test_the_data_view_costs_the_same_queries_for_10_and_1000_phones(admin_user: Any) -> None:
    client = login(admin_user)
    assignments.assignments_bulk(10)
    with_ten = data_view_queries(client)
    assignments.assignments_bulk(990)
    assert PersonPhone.objects.count() == 1000
    assert data_view_queries(client) == with_ten


def test_the_prospect_upload_previews_errors_and_saves_nothing(
    admin_user: Any, config: Any
) -> None:
    factories.RoleFactory(code="student", kind="student")
    csv = b"first_name,last_name,phone\nAna,Lopez,+12025550101\nBen,Ode,123\n"
    response = login(admin_user).post(
        reverse("prospect-upload"), {"file": SimpleUploadedFile("p.csv", csv)}
    )
    assert response.status_code == 200
    check = response.context["check"]
    assert not check.valid
    assert "1 row with errors" in response.content.decode()
    assert not Person.objects.exists()


def test_the_prospect_upload_imports_after_the_preview_is_confirmed(
    admin_user: Any, config: Any
) -> None:
    factories.RoleFactory(code="student", kind="student")
    csv = "first_name,last_name,phone\nAna,Lopez,+12025550101\n"
    client = login(admin_user)
    preview = client.post(
        reverse("prospect-upload"), {"file": SimpleUploadedFile("p.csv", csv.encode())}
    )
    assert preview.context["check"].valid
    assert not Person.objects.exists()
    response = client.post(reverse("prospect-upload"), {"csv_text": csv})
    assert response.status_code == 302
    phone = PersonPhone.objects.get()
    assert phone.person.full_name == "Ana Lopez"
    assert phone.verified_by == admin_user


def test_a_tampered_confirmation_is_checked_again_and_saves_nothing(
    admin_user: Any, config: Any
) -> None:
    factories.RoleFactory(code="student", kind="student")
    response = login(admin_user).post(
        reverse("prospect-upload"),
        {"csv_text": "first_name,last_name,phone\nAna,Lopez,+12025550101\nBen,,1\n"},
    )
    assert response.status_code == 200
    assert "nothing was imported" in response.content.decode()
    assert not Person.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_next_to_the_field(admin_user: Any) -> None:
    response = login(admin_user).post(
        reverse("prospect-upload"), {"file": SimpleUploadedFile("p.csv", b"\xff\xfe\x00bad")}
    )
    assert response.status_code == 200
    assert response.context["upload"].errors["file"] == [
        "The file is not UTF-8 text; save it as CSV (UTF-8) and retry."
    ]
