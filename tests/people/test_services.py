"""people.services: every SMS status change of a phone is recorded (T10); phones are stored in
E.164 and deleted softly (P2)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from people import services
from people.models import PersonPhone, PhoneStatusChange, PhoneType, SmsStatus, StatusCause
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone(cell: PhoneType) -> PersonPhone:
    return factories.PhoneFactory(person=factories.student(), phone_type=cell)


def test_setting_a_status_records_old_new_cause_who_and_when(phone: PersonPhone) -> None:
    actor = factories.UserFactory(username="alex")
    assert services.phone_status_set(
        phone=phone, status=SmsStatus.ENABLED, cause=StatusCause.MANUAL, actor=actor
    )
    phone.refresh_from_db()
    assert phone.sms_status == "enabled"
    change = PhoneStatusChange.objects.get()
    assert (change.phone, change.old_status, change.new_status) == (phone, "default", "enabled")
    assert (change.cause, change.changed_by, change.error_code) == ("manual", actor, None)
    assert change.changed_at is not None
    assert change.cause_text == "Changed by hand"


def test_an_error_code_change_records_the_code_and_says_so(phone: PersonPhone) -> None:
    services.phone_status_set(
        phone=phone, status=SmsStatus.DISABLED, cause=StatusCause.ERROR_CODE, error_code=21211
    )
    change = PhoneStatusChange.objects.get()
    assert (change.error_code, change.changed_by) == (21211, None)
    assert change.cause_text == "Twilio error code 21211"


def test_setting_the_status_a_phone_already_has_records_nothing(phone: PersonPhone) -> None:
    assert not services.phone_status_set(
        phone=phone, status=SmsStatus.DEFAULT, cause=StatusCause.MANUAL
    )
    assert not PhoneStatusChange.objects.exists()


def test_a_stale_copy_does_not_record_a_change_that_did_not_happen(phone: PersonPhone) -> None:
    stale = PersonPhone.objects.get(pk=phone.pk)
    services.phone_status_set(phone=phone, status=SmsStatus.DISABLED, cause=StatusCause.OPT_OUT)
    # The stale copy still believes the phone is SMS Default.
    assert not services.phone_status_set(
        phone=stale, status=SmsStatus.ENABLED, cause=StatusCause.STUDENT_INITIATED
    )
    phone.refresh_from_db()
    assert phone.sms_status == "disabled"
    assert stale.sms_status == "disabled"
    assert PhoneStatusChange.objects.count() == 1


def test_an_anonymous_actor_is_recorded_as_nobody(phone: PersonPhone) -> None:
    from django.contrib.auth.models import AnonymousUser

    services.phone_status_set(
        phone=phone, status=SmsStatus.ENABLED, cause=StatusCause.OPT_IN, actor=AnonymousUser()
    )
    assert PhoneStatusChange.objects.get().changed_by is None


def test_a_manual_edit_records_the_status_change_as_manual(phone: PersonPhone) -> None:
    actor = factories.UserFactory(username="alex")
    services.phone_update(phone=phone, actor=actor, sms_status=SmsStatus.DISABLED)
    phone.refresh_from_db()
    assert phone.sms_status == "disabled"
    change = PhoneStatusChange.objects.get()
    assert (change.old_status, change.new_status, change.cause, change.changed_by) == (
        "default",
        "disabled",
        "manual",
        actor,
    )


def test_a_manual_edit_without_a_status_records_no_status_change(phone: PersonPhone) -> None:
    actor = factories.UserFactory(username="alex")
    services.phone_update(phone=phone, actor=actor, verified=True)
    phone.refresh_from_db()
    assert phone.verified_by == actor
    assert phone.verified_at is not None
    assert not PhoneStatusChange.objects.exists()


def test_verifying_again_keeps_the_first_verification(phone: PersonPhone) -> None:
    first = factories.UserFactory(username="first")
    services.phone_update(phone=phone, actor=first, verified=True)
    phone.refresh_from_db()
    verified_at = phone.verified_at
    services.phone_update(
        phone=phone, actor=factories.UserFactory(username="second"), verified=True
    )
    phone.refresh_from_db()
    assert (phone.verified_by, phone.verified_at) == (first, verified_at)


def test_a_manual_edit_of_the_number_is_normalised_and_garbage_is_refused(
    phone: PersonPhone,
) -> None:
    services.phone_update(phone=phone, actor=None, number="(202) 555-0199")
    phone.refresh_from_db()
    assert phone.number == "+12025550199"
    with pytest.raises(ValidationError):
        services.phone_update(phone=phone, actor=None, sms_status="disabled", number="garbage")
    phone.refresh_from_db()
    assert (phone.number, phone.sms_status) == ("+12025550199", "default")
    assert not PhoneStatusChange.objects.exists()


def test_disabling_a_persons_phones_records_each_active_enabled_or_default_phone(
    cell: PhoneType,
) -> None:
    person = factories.student()
    enabled = factories.PhoneFactory(person=person, phone_type=cell, sms_status="enabled")
    default = factories.PhoneFactory(person=person, phone_type=cell)
    factories.PhoneFactory(person=person, phone_type=cell, sms_status="disabled")
    deleted = factories.PhoneFactory(person=person, phone_type=cell, deleted=True)
    changed = services.person_phones_disable(person_id=person.pk, cause=StatusCause.OPT_OUT)
    assert changed == 2
    assert set(PhoneStatusChange.objects.values_list("phone_id", "old_status", "cause")) == {
        (enabled.pk, "enabled", "opt_out"),
        (default.pk, "default", "opt_out"),
    }
    deleted.refresh_from_db()
    assert deleted.sms_status == "default"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("202-555-0143", "+12025550143"), ("+44 20 7946 0958", "+442079460958")],
)
def test_a_new_phone_is_stored_in_e164(cell: PhoneType, typed: str, stored: str) -> None:
    phone = services.phone_create(person=factories.student(), number=typed, phone_type=cell)
    assert phone.number == stored


def test_a_new_phone_with_a_garbage_number_is_refused_and_not_saved(cell: PhoneType) -> None:
    with pytest.raises(ValidationError) as exc:
        services.phone_create(person=factories.student(), number="call me", phone_type=cell)
    assert "'call me' is not a phone number" in exc.value.messages[0]
    assert not PersonPhone.objects.exists()


def test_a_phone_added_with_a_verifier_is_verified_now(cell: PhoneType) -> None:
    actor = factories.UserFactory(username="alex")
    phone = services.phone_create(
        person=factories.student(), number="2025550143", phone_type=cell, verified_by=actor
    )
    assert phone.verified_by == actor
    assert phone.verified_at is not None


def test_deleting_a_phone_is_soft_and_repeatable(phone: PersonPhone) -> None:
    services.phone_delete(phone=phone)
    services.phone_delete(phone=phone)
    phone.refresh_from_db()
    assert phone.deleted is True
    assert PersonPhone.objects.filter(pk=phone.pk).exists()


def test_unknown_role_codes_are_all_named() -> None:
    factories.RoleFactory(code="advisor")
    with pytest.raises(ValidationError) as exc:
        services.roles_by_codes(["advisor", "dean", "provost"])
    assert exc.value.messages == ["Unknown role code(s): dean, provost."]


def test_roles_are_returned_in_the_order_asked_once_each() -> None:
    advisor = factories.RoleFactory(code="advisor")
    coach = factories.RoleFactory(code="coach")
    assert services.roles_by_codes(["coach", "advisor", "coach"]) == [coach, advisor]


def test_a_person_created_with_a_username_gets_a_login_without_a_password() -> None:
    person = services.person_create(first_name="Alex", last_name="Advisor", username="alex")
    assert person.user is not None
    assert person.user.username == "alex"
    assert not person.user.has_usable_password()


def test_an_existing_login_is_linked_and_keeps_its_password() -> None:
    user = factories.UserFactory(username="alex")
    person = services.person_create(first_name="Alex", last_name="Advisor", username="alex")
    assert person.user == user
    user.refresh_from_db()
    assert user.check_password("pw-for-tests-1")


def test_a_blank_source_system_id_is_stored_as_none_so_it_never_collides() -> None:
    first = services.person_create(first_name="A", last_name="One", src_system_id="")
    second = services.person_create(first_name="B", last_name="Two", src_system_id="")
    services.person_update(first, src_system_id="")
    assert (first.src_system_id, second.src_system_id) == (None, None)


def test_updating_roles_and_fields_of_a_person(db: Any) -> None:
    person = factories.student()
    advisor = factories.RoleFactory(code="advisor")
    services.person_update(person, roles=[advisor], email="new@example.edu")
    person.refresh_from_db()
    assert person.email == "new@example.edu"
    assert list(person.roles.all()) == [advisor]
    assert person.is_student is False


def test_a_phone_created_sms_disabled_records_the_status_and_who_set_it(cell: Any) -> None:
    from people.models import PhoneStatusChange
    from tests.factories import UserFactory

    clerk = UserFactory(username="clerk")

    phone = services.phone_create(
        person=factories.student(),
        number="(202) 555-0177",
        phone_type=cell,
        sms_status="disabled",
        actor=clerk,
    )

    change = PhoneStatusChange.objects.get(phone=phone)
    assert (change.old_status, change.new_status, change.cause, change.changed_by) == (
        "default",
        "disabled",
        "manual",
        clerk,
    )


def test_a_phone_created_sms_default_records_no_change(cell: Any) -> None:
    from people.models import PhoneStatusChange

    phone = services.phone_create(person=factories.student(), number="2025550178", phone_type=cell)

    assert not PhoneStatusChange.objects.filter(phone=phone).exists()


def test_a_system_number_is_never_edited_or_deleted_as_a_phone(advisor: Any) -> None:
    from django.core.exceptions import ValidationError

    from people.models import PhoneType

    system = factories.PhoneFactory(
        person=advisor,
        phone_type=PhoneType.objects.get(code="SYSTEM"),
        phone_type_src_system_id="AVISO.SYSTEM",
    )

    with pytest.raises(ValidationError, match="Phone Number Usage"):
        services.phone_update(phone=system, actor=None, sms_status="disabled")
    with pytest.raises(ValidationError, match="Phone Number Usage"):
        services.phone_delete(phone=system)

    system.refresh_from_db()
    assert (system.sms_status, system.deleted) == ("default", False)
