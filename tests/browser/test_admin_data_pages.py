"""Administrators' data pages in Chromium: the Person Phone data view (P5), the prospect upload
(P6), the 403 page and the start page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from people.models import Person, PersonPhone
from tests import factories
from tests.browser.conftest import Session
from tests.factories import assignments

pytestmark = pytest.mark.browser


def test_the_person_phone_data_view_filters_deleted_false(
    session: Session, admin_user: Any, config: Any
) -> None:
    held = assignments.assignment(factories.staff(first_name="Alex", last_name="Advisor"))
    gone = factories.PhoneFactory(deleted=True)
    for first, status in [("Ana", "enabled"), ("Ben", "default"), ("Cleo", "disabled")]:
        factories.PhoneFactory(
            person=factories.student(first_name=first, last_name="Student"),
            sms_status=status,
            src_system_id=f"SIS-PHONE-{first}",
            phone_type_src_system_id="SIS.CELL",
        )
    session.login("admin")
    session.open("/data/person-phones/")
    page = session.page
    page.get_by_label("Deleted").select_option("false")
    page.get_by_role("button", name="Filter").click()
    table = page.locator("#phone-data")
    expect(table).to_contain_text(held.phone.src_system_id)
    expect(table).to_contain_text("AVISO.SYSTEM")
    expect(table).not_to_contain_text(gone.number)
    session.screenshot("person-phone-data")


def test_an_invalid_csv_row_is_reported_and_nothing_is_saved_then_a_valid_file_imports(
    session: Session, admin_user: Any, config: Any, tmp_path: Any
) -> None:
    factories.RoleFactory(code="student", kind="student")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "src_system_id,first_name,last_name,email,phone,phone_type\n"
        "P-1,Ana,Lopez,ana@example.edu,+1 202 555 0101,cell\n"
        "P-2,Ben,,ben@,555,cell\n"
    )
    session.login("admin")
    session.open("/prospects/upload/")
    page = session.page
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#preview-summary")).to_contain_text("1 row with errors")
    row = page.locator("#preview tr.row-error")
    expect(row).to_contain_text("last_name is empty.")
    expect(row).to_contain_text("'ben@' is not an email address.")
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    session.screenshot("prospect-upload-errors")
    assert not Person.objects.exists()

    good = tmp_path / "good.csv"
    good.write_text(
        "src_system_id,first_name,last_name,email,phone,phone_type\n"
        "P-1,Ana,Lopez,ana@example.edu,+1 202 555 0101,cell\n"
        "P-2,Ben,Ode,ben@example.edu,+1 202 555 0102,\n"
    )
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#preview-summary")).to_contain_text("All 2 rows are valid")
    session.screenshot("prospect-upload-preview")
    page.get_by_role("button", name="Import 2 people").click()
    expect(page.get_by_role("status").first).to_contain_text("Imported 2 people and 2 phones")
    assert PersonPhone.objects.filter(verified_by=admin_user).count() == 2


def test_staff_opening_an_admin_page_get_the_403_page(
    session: Session, advisor: Any, config: Any
) -> None:
    factories.student(first_name="Zora", last_name="Neale")
    session.login("advisor")
    page = session.page
    page.get_by_label("Search by name, ID or email").fill("zora")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#people")).to_contain_text("Zora Neale")
    response = session.open("/sms-configuration/twilio/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="You may not open this page")).to_be_visible()
    session.screenshot("forbidden")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
    session.screenshot("login")
