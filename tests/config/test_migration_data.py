from __future__ import annotations

import pytest

from people.models import PhoneType
from sms_admin.models import ErrorCodePolicy


@pytest.mark.django_db(transaction=True)
def test_transactional_tests_see_the_rows_data_migrations_create() -> None:
    PhoneType.objects.all().delete()  # the next transactional test must get them back

    assert ErrorCodePolicy.objects.filter(code=21610, action="disable_all_phones").exists()


@pytest.mark.django_db(transaction=True)
def test_the_system_phone_type_is_back_after_a_flush() -> None:
    assert PhoneType.objects.filter(code="SYSTEM").exists()
