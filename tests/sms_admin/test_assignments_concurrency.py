"""Racing releases of one assignment (S8) on PostgreSQL: the conditional UPDATE lets exactly one
through; the others are told it was already un-assigned and change nothing. Racing first sends
take rested numbers before resting ones (Q1)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from people.models import PersonPhone, PhoneStatusChange
from sms_admin import pool
from sms_admin.models import SenderAssignment, SenderNumber, SmsConfiguration
from tests import factories
from tests.factories import assignments
from tests.parallel import postgres_only, run_at_once

pytestmark = postgres_only

RACERS = 8


def test_racing_releases_of_one_assignment_release_it_once() -> None:
    held = assignments.assignment()
    admins = [factories.UserFactory(username=f"racer{i}", is_staff=True) for i in range(RACERS)]

    def release(i: int) -> str:
        try:
            pool.sender_assignment_release(assignment_id=held.pk, actor=admins[i])
        except ValidationError:
            return "refused"
        return "released"

    outcomes = run_at_once(release, RACERS)

    assert sorted(outcomes) == ["refused"] * (RACERS - 1) + ["released"]
    stored = SenderAssignment.objects.get(pk=held.pk)
    assert stored.released_at is not None
    assert stored.released_by in admins
    assert PersonPhone.objects.get(pk=held.phone_id).deleted is True
    assert not PhoneStatusChange.objects.filter(phone_id=held.phone_id).exists()
    assert not SenderAssignment.objects.filter(released_at__isnull=True).exists()


def test_releases_racing_new_assignments_never_give_one_number_to_two_people(
    config: Any,
) -> None:
    held = [assignments.assignment() for _ in range(RACERS // 2)]
    newcomers = [factories.staff() for _ in range(RACERS // 2)]

    def act(i: int) -> str:
        if i % 2 == 0:
            pool.sender_assignment_release(assignment_id=held[i // 2].pk)
            return "released"
        got = pool.sender_number_ensure(person=newcomers[i // 2])
        return "assigned" if got is not None else "none"

    run_at_once(act, RACERS)

    active = SenderAssignment.objects.filter(released_at__isnull=True)
    numbers = list(active.values_list("sender_number_id", flat=True))
    assert len(numbers) == len(set(numbers))
    assert active.count() <= config.sms_phone_number_limit


def test_racing_first_sends_take_rested_numbers_before_resting_ones(config: Any) -> None:
    SmsConfiguration.objects.filter(pk=1).update(sms_phone_number_limit=RACERS + 2)
    for i in range(3):
        SenderNumber.objects.create(number=f"+1201555020{i}")
        held = assignments.assignment(number=f"+1201555030{i}")
        pool.sender_assignment_release(assignment_id=held.pk)
    newcomers = [factories.staff() for _ in range(RACERS)]

    got = run_at_once(lambda i: pool.sender_number_ensure(person=newcomers[i]) is not None, RACERS)

    assert sorted(got) == [False] * (RACERS - 6) + [True] * 6
    active = SenderAssignment.objects.filter(released_at__isnull=True)
    numbers = list(active.values_list("sender_number__number", flat=True))
    assert len(numbers) == len(set(numbers)) == 6
    # Only the three numbers released a moment ago were given while resting.
    resting = active.filter(assigned_while_resting=True)
    assert sorted(resting.values_list("sender_number__number", flat=True)) == [
        f"+1201555030{i}" for i in range(3)
    ]
