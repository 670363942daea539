"""`manage.py seed_demo` creates the demo institution of issue 2; running it twice is harmless."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from people.models import Person, PersonPhone, PhoneStatusChange, PhoneType, Role
from sms_admin.models import ConfigurationChange, SenderNumber, SmsConfiguration

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "roles": Role.objects.count(),
        "types": PhoneType.objects.count(),
        "people": Person.objects.count(),
        "phones": PersonPhone.objects.count(),
        "users": get_user_model().objects.count(),
        "senders": SenderNumber.objects.count(),
        "config changes": ConfigurationChange.objects.count(),
        "status changes": PhoneStatusChange.objects.count(),
    }


def test_the_demo_has_the_roles_and_phone_types_of_issue_2() -> None:
    seed()
    assert set(Role.objects.values_list("name", "kind")) == {
        ("Advisor", "staff"),
        ("Faculty", "staff"),
        ("Student", "student"),
    }
    assert {"Cell", "Home", "Work"} <= set(PhoneType.objects.values_list("name", flat=True))


def test_cell_is_the_default_sms_type_and_advisors_may_send() -> None:
    seed()
    config = SmsConfiguration.objects.get()
    assert config.default_sms_phone_type is not None
    assert config.default_sms_phone_type.name == "Cell"
    assert [r.name for r in config.permitted_roles.all()] == ["Advisor"]


def test_the_demo_has_three_advisors_with_logins_and_fifty_students() -> None:
    seed()
    advisors = Person.objects.filter(roles__code="advisor")
    assert advisors.count() == 3
    assert all(a.user is not None and a.user.has_usable_password() for a in advisors)
    students = [p for p in Person.objects.prefetch_related("roles") if p.is_student]
    assert len(students) == 50


def test_students_have_a_mix_of_phones_statuses_and_verified_dates() -> None:
    seed()
    phones = PersonPhone.objects.filter(person__roles__code="student")
    assert set(phones.values_list("sms_status", flat=True)) == {"default", "enabled", "disabled"}
    assert set(phones.values_list("phone_type__name", flat=True)) >= {"Cell", "Home", "Work"}
    assert phones.filter(verified_at__isnull=False).exists()
    assert phones.filter(verified_at__isnull=True).exists()
    per_student = {p.pk: p.phones.count() for p in Person.objects.filter(roles__code="student")}
    assert min(per_student.values()) == 0
    assert max(per_student.values()) >= 2


def test_the_pool_has_five_sender_numbers() -> None:
    seed()
    numbers = list(SenderNumber.objects.values_list("number", flat=True))
    assert len(numbers) == 5
    assert all(n.startswith("+1") and len(n) == 12 for n in numbers)


def test_an_administrator_login_is_created_and_printed() -> None:
    output = seed()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff
    assert admin.is_superuser
    assert admin.check_password("demo-pass-2026")
    assert "admin" in output
    assert "demo-pass-2026" in output


def test_running_it_twice_changes_no_counts() -> None:
    seed()
    first = counts()
    seed()
    assert counts() == first


def test_running_it_again_keeps_changes_made_since() -> None:
    seed()
    config = SmsConfiguration.objects.get()
    config.permitted_roles.set(Role.objects.filter(code__in=["advisor", "faculty"]))
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-by-the-admin")
    admin.save()
    seed()
    assert set(config.permitted_roles.values_list("code", flat=True)) == {"advisor", "faculty"}
    admin.refresh_from_db()
    assert admin.check_password("changed-by-the-admin")


def test_every_seeded_number_is_valid_e164() -> None:
    from people.phone_numbers import phone_number_normalize

    seed()
    for number in PersonPhone.objects.values_list("number", flat=True):
        assert phone_number_normalize(number) == number


def test_the_demo_has_a_student_with_neither_phone_nor_email_and_a_faculty_member() -> None:
    seed()
    unreachable = Person.objects.filter(roles__code="student", email="", phones__isnull=True)
    assert unreachable.exists()
    faculty = Person.objects.get(roles__code="faculty", user__username="faculty1")
    assert faculty.is_student is False


def test_the_closing_message_names_where_the_demo_is_served() -> None:
    default = seed()
    out = StringIO()
    call_command("seed_demo", "--url", "http://127.0.0.1:18000/", stdout=out)

    assert "Log in at http://127.0.0.1:8000/ as admin" in default
    assert "Log in at http://127.0.0.1:18000/ as admin" in out.getvalue()


def test_a_seed_that_fails_half_way_leaves_nothing_and_a_rerun_completes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_create = PersonPhone.objects.create
    calls = {"n": 0}

    def failing_create(**kwargs: object) -> PersonPhone:
        calls["n"] += 1
        if calls["n"] == 20:
            raise RuntimeError("the disk filled up")
        return real_create(**kwargs)

    monkeypatch.setattr(PersonPhone.objects, "create", failing_create)
    with pytest.raises(RuntimeError):
        seed()
    assert (Person.objects.count(), PersonPhone.objects.count()) == (0, 0)

    monkeypatch.undo()
    seed()
    complete = counts()
    seed()
    assert counts() == complete
    assert complete["phones"] > 50
