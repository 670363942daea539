"""Pacing per sender number: a number's texts leave no faster than `sender_segments_per_second`.

The arithmetic is tested as tables; the behaviour with a fixed clock stepped second by second,
the pacer run at each step and the texts sent in-process to the Twilio sandbox: the sandbox's
log, counted per second of the fixed clock, is what Twilio would have received."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging import enqueue, pacing, sending, services
from messaging.models import Message, SenderPace, Status
from people.models import Person
from sms_admin import services as sms_admin_services
from tests import factories
from tests.sending_support import pool_numbers, sandbox, student_with_phone
from twilio_bridge import gateway
from twilio_bridge.sandbox import Sandbox

__all__ = ["sandbox"]

# Tuesday 2026-12-01 15:00:00 UTC, a whole second.
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
T0 = int(NOW.timestamp())
THREE_SEGMENTS = "x" * 400  # GSM-7: 153 characters a segment when split.


# --- the arithmetic ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "sizes", "slots", "next_slot"),
    [
        # Rate 1: one slot a second, one segment a slot.
        (1, [1, 1, 1], [10, 11, 12], 13),
        (1, [3, 1], [10, 13], 14),
        # Rate 2, one segment: two a second.
        (2, [1, 1, 1, 1], [20, 21, 22, 23], 24),
        # Rate 2, three segments: each starts a second of its own (never shares one).
        (2, [3, 3], [20, 24], 27),
        # A two-segment text does not straddle two seconds: it waits for the next.
        (2, [1, 2, 1], [20, 22, 24], 25),
    ],
)
def test_planning_gives_each_text_the_slot_a_punctual_pacer_admits_it_in(
    rate: int, sizes: list[int], slots: list[int], next_slot: int
) -> None:
    assert pacing.plan(0, 10 * rate, rate, sizes) == (slots, next_slot)


def test_planning_starts_after_what_the_number_already_has_planned() -> None:
    assert pacing.plan(25, 20, 2, [1, 1]) == ([25, 26], 27)


@pytest.mark.parametrize(
    ("admitted_slot", "second", "rate", "sizes", "count", "after"),
    [
        # Rate 1: one one-segment text a second, whatever waits.
        (0, 10, 1, [1, 1, 1], 1, 11),
        # Rate 2: two.
        (0, 10, 2, [1, 1, 1], 2, 22),
        # The second's budget is not refilled by a second run within it.
        (22, 10, 2, [1, 1], 0, 22),
        # Rate 3, one segment each: exactly three, never a fourth through rounding.
        (0, 10, 3, [1, 1, 1, 1], 3, 33),
        # A text longer than the rate goes alone in an empty second ...
        (0, 10, 2, [3, 1], 1, 23),
        # ... and its surplus takes the next second's budget.
        (23, 11, 2, [1, 1], 1, 24),
        # It never joins texts already in its second.
        (20, 10, 2, [1, 3], 1, 21),
        # A late pacer (last admitted at second 5, now 10) sends this second's budget only.
        (11, 10, 2, [1, 1, 1, 1, 1], 2, 22),
        # In order: a text that does not fit stops the ones behind it.
        (21, 10, 2, [2, 1], 0, 21),
    ],
)
def test_admission_never_exceeds_the_seconds_budget(
    admitted_slot: int,
    second: int,
    rate: int,
    sizes: list[int],
    count: int,
    after: int,
) -> None:
    assert pacing.admit(admitted_slot, second, rate, sizes) == (count, after)


@pytest.mark.parametrize("rate", [1, 2, 3, 7, 1000])
def test_a_pacer_on_time_admits_every_text_in_the_second_of_its_planned_slot(rate: int) -> None:
    sizes = [1, 3, 2, 1, 1, 5, 1, 2, 2, 1, 4, 1]
    slots, _ = pacing.plan(0, 100 * rate, rate, sizes)
    admitted, waiting = 0, list(zip(sizes, slots, strict=True))
    for second in range(100, 200):
        due = [size for size, slot in waiting if slot < (second + 1) * rate]
        count, admitted = pacing.admit(admitted, second, rate, due)
        assert [slot // rate for _, slot in waiting[:count]] == [second] * count
        assert count == len(due)
        waiting = waiting[count:]
    assert waiting == []


def test_slots_and_times_convert_exactly() -> None:
    assert pacing.slot_of(NOW, 3) == 3 * T0
    assert pacing.time_of(3 * T0 + 1, 3) == NOW + timedelta(microseconds=333_333)
    assert pacing.second_of(NOW + timedelta(microseconds=999_999)) == T0
    # A change of rate never moves a slot earlier.
    assert pacing.rescale(7, 2, 1) == 4
    assert pacing.rescale(7, 1, 2) == 14


# --- sending with a fixed clock and the sandbox ------------------------------------------------


@pytest.fixture
def clock(settings: Any) -> Iterator[time_machine.Traveller]:
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _rate(rate: int) -> None:
    sms_admin_services.configuration_update(actor=None, sender_segments_per_second=rate)


def _students(count: int, start: int = 0) -> list[Person]:
    return [student_with_phone(f"+1202555{start + i:04d}")[0] for i in range(count)]


class Steps:
    """The clock moved a second at a time, the pacer run at each; what the sandbox received,
    per second of the clock."""

    def __init__(self, clock: Any, box: Sandbox, capture: Any) -> None:
        self.clock, self.box, self.capture = clock, box, capture
        self.per_second: dict[int, list[dict[str, str]]] = {}
        self._seen = 0

    def note(self) -> None:
        creates = self.box.creates()
        second = pacing.second_of(datetime.now(UTC))
        self.per_second.setdefault(second, []).extend(c["form"] for c in creates[self._seen :])
        self._seen = len(creates)

    def record(self, call: Any) -> Any:
        with self.capture(execute=True):
            result = call()
        self.note()
        return result

    def cohort(self, sender: Any, people: Any, body: str = "Hi", **more: Any) -> Any:
        """`people` texted by `sender` in one cohort now (recorded, what may leave published)."""
        return self.record(
            lambda: services.message_send_bulk(
                sender=sender, recipient_ids=[p.pk for p in people], body=body, **more
            )
        )

    def run(self, seconds: int = 1) -> None:
        self.clock.shift(timedelta(seconds=seconds))
        with self.capture(execute=True):
            pacing.messages_pace()
        self.note()

    def by_number(self) -> dict[str, dict[int, int]]:
        counts: dict[str, dict[int, int]] = {}
        for second, forms in self.per_second.items():
            for form in forms:
                per = counts.setdefault(form["From"], {})
                per[second] = per.get(second, 0) + 1
        return counts

    def sent_to(self) -> list[str]:
        return [form["To"] for forms in self.per_second.values() for form in forms]


@pytest.fixture
def steps(clock: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any) -> Steps:
    return Steps(clock, sandbox, django_capture_on_commit_callbacks)


pytestmark = pytest.mark.usefixtures("config", "policy")


def test_a_cohort_of_20_at_2_a_second_leaves_2_a_second_each_once(
    advisor: Person, steps: Steps
) -> None:
    _rate(2)
    pool_numbers(1)
    people = _students(20)

    steps.cohort(advisor, people)
    assert len(steps.sent_to()) == 2
    assert Message.objects.filter(status=Status.QUEUED, leaves_at__isnull=False).count() == 18
    for _ in range(12):
        steps.run()

    counts = steps.by_number()["+12015550100"]
    assert max(counts.values()) == 2
    assert sorted(counts) == list(range(T0, T0 + 10))
    assert sorted(steps.sent_to()) == sorted(f"+1202555{i:04d}" for i in range(20))
    assert Message.objects.filter(status=Status.SENT).count() == 20
    assert not Message.objects.filter(leaves_at__isnull=False).exists()


def test_a_late_pacer_catches_up_at_the_rate_never_in_a_burst(
    advisor: Person, steps: Steps
) -> None:
    _rate(2)
    pool_numbers(1)
    people = _students(20)
    steps.cohort(advisor, people)
    steps.run()
    # The pacer does not run for 5 seconds: 10 texts are overdue.
    steps.run(5)
    assert len(steps.per_second[T0 + 6]) == 2
    for _ in range(12):
        steps.run()

    counts = steps.by_number()["+12015550100"]
    assert max(counts.values()) == 2
    assert sum(counts.values()) == 20
    assert len(set(steps.sent_to())) == 20


def test_texts_longer_than_the_rate_leave_alone_and_leave_the_next_second_to_their_surplus(
    advisor: Person, steps: Steps
) -> None:
    _rate(2)
    pool_numbers(1)
    people = _students(4)
    steps.cohort(advisor, people, THREE_SEGMENTS)
    for _ in range(8):
        steps.run()

    counts = steps.by_number()["+12015550100"]
    # One 3-segment text every other second: 6 segments in any 4 seconds, never 2 texts at once.
    assert counts == {T0: 1, T0 + 2: 1, T0 + 4: 1, T0 + 6: 1}


def test_two_numbers_are_paced_independently(steps: Steps) -> None:
    _rate(1)
    pool_numbers(2)
    first = factories.staff(user=factories.UserFactory(username="first"))
    second = factories.staff(user=factories.UserFactory(username="second"))
    people = _students(6)
    steps.cohort(first, people[:3])
    steps.cohort(second, people[3:])
    for _ in range(3):
        steps.run()

    counts = steps.by_number()
    assert counts == {
        "+12015550100": {T0: 1, T0 + 1: 1, T0 + 2: 1},
        "+12015550101": {T0: 1, T0 + 1: 1, T0 + 2: 1},
    }


def test_a_second_cohort_from_the_same_number_queues_behind_the_first(
    advisor: Person, steps: Steps
) -> None:
    _rate(1)
    pool_numbers(1)
    people = _students(6)
    for part in (people[:3], people[3:]):
        steps.cohort(advisor, part)
    waiting = Message.objects.filter(leaves_at__isnull=False).order_by("leaves_at")
    assert [m.leaves_at for m in waiting] == [NOW + timedelta(seconds=s) for s in range(1, 6)]
    for _ in range(6):
        steps.run()
    assert steps.sent_to() == [f"+1202555{i:04d}" for i in range(6)]
    assert max(steps.by_number()["+12015550100"].values()) == 1


def test_rate_0_sends_the_whole_cohort_at_once(advisor: Person, steps: Steps) -> None:
    _rate(0)
    pool_numbers(1)
    people = _students(20)
    steps.cohort(advisor, people)
    assert len(steps.per_second[T0]) == 20
    assert not SenderPace.objects.exists()


def test_turning_pacing_off_sends_what_waits_at_the_pacers_next_run(
    advisor: Person, steps: Steps
) -> None:
    _rate(1)
    pool_numbers(1)
    people = _students(10)
    steps.cohort(advisor, people)
    _rate(0)
    steps.run()
    assert len(steps.per_second[T0 + 1]) == 9
    assert Message.objects.filter(status=Status.SENT).count() == 10


def _five_students_at_20_59_58(steps: Steps) -> list[Person]:
    """Quiet hours 21:00-08:00, a pace of 1 a second, one pool number and five students; the
    clock two seconds before quiet hours begin."""
    from datetime import time

    sms_admin_services.configuration_update(
        actor=None, quiet_hours_start=time(21, 0), quiet_hours_end=time(8, 0)
    )
    _rate(1)
    pool_numbers(1)
    people = _students(5)
    steps.clock.shift(timedelta(hours=5, minutes=59, seconds=58))
    return people


def test_a_text_waiting_for_its_slot_does_not_leave_inside_quiet_hours(
    advisor: Person, steps: Steps
) -> None:
    # A cohort recorded just before quiet hours (21:00-08:00) is paced into them: what still
    # waits when they begin stays until they end, then leaves at the rate (K6 over K7).
    people = _five_students_at_20_59_58(steps)
    steps.cohort(advisor, people)
    steps.run()  # 20:59:59
    assert len(steps.sent_to()) == 2
    for _ in range(5):  # 21:00:00 - 21:00:04, their planned seconds
        steps.run()
    assert len(steps.sent_to()) == 2
    steps.run(11 * 3600 - 4)  # 08:00:00
    assert len(steps.sent_to()) == 3
    for _ in range(3):
        steps.run()
    assert len(steps.sent_to()) == 5
    assert max(steps.by_number()["+12015550100"].values()) == 1


def test_a_single_send_waits_its_turn_behind_a_cohort_of_its_number(
    advisor: Person, steps: Steps
) -> None:
    _rate(1)
    pool_numbers(1)
    people = _students(4)
    steps.cohort(advisor, people[:3])
    text = steps.record(
        lambda: services.message_send(sender=advisor, recipient_id=people[3].pk, body="Hi")
    )
    assert text.leaves_at == NOW + timedelta(seconds=3)
    for _ in range(3):
        steps.run()
    assert steps.sent_to()[-1] == "+12025550003"
    assert steps.by_number()["+12015550100"] == {T0 + s: 1 for s in range(4)}


def test_the_send_api_answers_when_a_paced_text_will_leave(
    advisor: Person, advisor_api: Any, steps: Steps
) -> None:
    _rate(1)
    pool_numbers(1)
    people = _students(3)
    first = advisor_api.post(
        "/api/v1/messages/", {"recipient": people[0].pk, "body": "Hi"}, format="json"
    )
    second = advisor_api.post(
        "/api/v1/messages/", {"recipient": people[1].pk, "body": "Hi"}, format="json"
    )

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["leaves_at"] is None
    assert second.json()["leaves_at"] == "2026-12-01T15:00:01Z"


def test_a_due_scheduled_cohort_is_paced_when_released(advisor: Person, steps: Steps) -> None:
    _rate(1)
    pool_numbers(1)
    people = _students(5)
    steps.record(
        lambda: services.message_send_bulk(
            sender=advisor,
            recipient_ids=[p.pk for p in people],
            body="Hi",
            send_at=NOW + timedelta(minutes=5),
        )
    )
    steps.clock.shift(timedelta(minutes=5))
    steps.record(services.messages_release_all_due)
    assert Message.objects.filter(status=Status.QUEUED, leaves_at__isnull=False).count() == 4
    for _ in range(5):
        steps.run()
    assert max(steps.by_number()["+12015550100"].values()) == 1
    assert Message.objects.filter(status=Status.SENT).count() == 5


def test_the_sweep_and_a_stray_send_task_leave_a_waiting_text_alone(
    advisor: Person, steps: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rate(1)
    pool_numbers(1)
    people = _students(3)
    result = steps.cohort(advisor, people)
    waiting = list(
        Message.objects.filter(leaves_at__isnull=False).order_by("pk").values_list("pk", flat=True)
    )
    assert len(waiting) == 2
    # Long past the sweep's patience, without the pacer having run.
    published: list[int] = []
    monkeypatch.setattr(
        enqueue, "sms_batches", lambda ids, *, after_commit=True: published.extend(ids)
    )
    steps.clock.shift(timedelta(hours=1))
    sending.messages_sweep(gateway=gateway.from_settings())
    assert published == []
    # A send task naming them (a duplicate publish) sends nothing before the pacer admits them.
    outcomes = sending.sms_send_batch(
        message_ids=result.message_ids, gateway=gateway.from_settings()
    )
    assert outcomes == {}
    assert sending.sms_send(message_id=waiting[0], gateway=gateway.from_settings()).kind == (
        "skipped"
    )
    assert len(steps.box.creates()) == 1


# --- the preview and the progress page ---------------------------------------------------------


def test_the_preview_says_when_the_last_text_leaves_after_what_the_number_has_waiting(
    advisor: Person, advisor_api: Any, steps: Steps
) -> None:
    _rate(2)
    pool_numbers(1)
    people = _students(10)
    ids = [p.pk for p in people]

    first = advisor_api.post(
        "/api/v1/messages/bulk/preview/", {"recipients": ids, "body": "Hi"}, format="json"
    )
    assert first.status_code == 200, first.content
    # Ten one-segment texts at 2 a second: the last leaves 4.5 s after the first (a number not
    # yet assigned has nothing waiting).
    assert first.json()["last_leaves_at"] == "2026-12-01T15:00:04.500000Z"

    steps.record(lambda: services.message_send_bulk(sender=advisor, recipient_ids=ids, body="Hi"))
    after = advisor_api.post(
        "/api/v1/messages/bulk/preview/", {"recipients": ids, "body": "Hi"}, format="json"
    )
    # Behind the ten now waiting: 5 s later.
    assert after.json()["last_leaves_at"] == "2026-12-01T15:00:09.500000Z"

    _rate(0)
    off = advisor_api.post(
        "/api/v1/messages/bulk/preview/", {"recipients": ids, "body": "Hi"}, format="json"
    )
    assert off.json()["last_leaves_at"] is None


def test_the_progress_page_says_when_the_last_text_leaves_while_texts_wait(
    advisor: Person, steps: Steps
) -> None:
    _rate(1)
    pool_numbers(1)
    people = _students(300)
    result = steps.cohort(advisor, people)
    client = Client()
    client.force_login(advisor.user)
    page = client.get(reverse("cohort-progress", args=[result.cohort_id]))
    # 300 texts at 1 a second from 15:00:00: the last at 15:04:59.
    assert "The last text leaves about 15:04" in page.content.decode()
    progress = client.get(reverse("cohort-progress-json", args=[result.cohort_id])).json()
    assert progress["pace"].startswith("The last text leaves about 15:04")

    for _ in range(300):
        steps.run()
    progress = client.get(reverse("cohort-progress-json", args=[result.cohort_id])).json()
    assert (progress["sent"], progress["pace"]) == (300, "")


# --- queries ----------------------------------------------------------------------------------


def _count(call: Any, capture: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with capture(execute=False), CaptureQueriesContext(connection) as ctx:
        call()
    return len(
        [
            q
            for q in ctx.captured_queries
            if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))
        ]
    )


def test_pacing_costs_two_queries_per_batch_and_number_whatever_the_batch_size(
    advisor: Person, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _rate(1)
    pool_numbers(1)
    people = _students(35)

    def send(part: list[Person]) -> Any:
        return lambda: services.message_send_bulk(
            sender=advisor, recipient_ids=[p.pk for p in part], body="Hi"
        )

    _count(send(people[:1]), django_capture_on_commit_callbacks)  # assigns the number
    small = _count(send(people[1:6]), django_capture_on_commit_callbacks)
    large = _count(send(people[6:]), django_capture_on_commit_callbacks)
    _rate(0)
    unpaced = _count(send(people[:5]), django_capture_on_commit_callbacks)

    # The number's pace row locked (made if new) and written once.
    assert small == large == unpaced + 2


def test_a_pacer_run_costs_the_same_queries_for_2_and_for_20_texts_admitted(
    advisor: Person, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    people = _students(44)
    runs: list[int] = []

    def pace() -> None:
        runs.append(pacing.messages_pace().admitted)

    _rate(2)
    with django_capture_on_commit_callbacks(execute=False):
        services.message_send_bulk(
            sender=advisor, recipient_ids=[p.pk for p in people[:4]], body="Hi"
        )
    clock.shift(timedelta(seconds=1))
    two = _count(pace, django_capture_on_commit_callbacks)
    _rate(20)
    with django_capture_on_commit_callbacks(execute=False):
        services.message_send_bulk(
            sender=advisor, recipient_ids=[p.pk for p in people[4:]], body="Hi"
        )
    clock.shift(timedelta(seconds=1))
    twenty = _count(pace, django_capture_on_commit_callbacks)

    assert runs == [2, 20]
    # The configuration, the numbers with texts due, per number: its row locked, its due
    # texts, their release, its row written; then the next wake.
    assert two == twenty == 7


def test_the_person_page_says_when_a_text_waiting_for_its_turn_leaves(
    advisor: Person, steps: Steps
) -> None:
    _rate(1)
    pool_numbers(1)
    people = _students(3)
    steps.cohort(advisor, people)
    waiting = Message.objects.filter(leaves_at__isnull=False).order_by("leaves_at").last()
    assert waiting is not None and waiting.status == Status.QUEUED
    client = Client()
    client.force_login(advisor.user)

    page = client.get(reverse("person-detail", args=[waiting.recipient_id])).content.decode()

    local = waiting.leaves_at.astimezone(timezone.get_current_timezone())
    assert f"leaves about {local:%H:%M}" in page
    assert f'aria-label="Cancel the text waiting to leave at {local:%H:%M}"' in page
    steps.run()
    steps.run()
    page = client.get(reverse("person-detail", args=[waiting.recipient_id])).content.decode()
    assert "leaves about" not in page


# --- cancelling texts still waiting for their turn ---------------------------------------------


def test_a_cohort_sent_by_mistake_can_be_stopped_while_its_texts_wait(
    advisor: Person, steps: Steps
) -> None:
    """The texts still waiting are cancelled and their units of the month given back; those
    that left stay sent; the pacer sends nothing more."""
    from sms_admin import pool

    _rate(1)
    pool_numbers(1)
    people = _students(10)
    result = steps.cohort(advisor, people)
    steps.run()
    steps.run()
    assert len(steps.sent_to()) == 3
    assert pool.monthly_usage_summary().sent == 10

    canceled = services.cohort_cancel(cohort_id=result.cohort_id)

    assert canceled == 7
    assert Message.objects.filter(status=Status.CANCELED, leaves_at__isnull=True).count() == 7
    assert pool.monthly_usage_summary().sent == 3
    for _ in range(10):
        steps.run()
    assert len(steps.sent_to()) == 3
    with pytest.raises(services.NothingScheduled):
        services.cohort_cancel(cohort_id=result.cohort_id)


def test_one_waiting_text_is_cancelled_through_the_api_and_a_sent_one_is_a_409(
    advisor: Person, advisor_api: Any, steps: Steps
) -> None:
    _rate(1)
    pool_numbers(1)
    people = _students(3)
    steps.cohort(advisor, people)
    sent = Message.objects.get(status=Status.SENT)
    waiting = Message.objects.filter(leaves_at__isnull=False).order_by("leaves_at").last()
    assert waiting is not None

    answer = advisor_api.post(f"/api/v1/messages/{waiting.pk}/cancel/")
    refused = advisor_api.post(f"/api/v1/messages/{sent.pk}/cancel/")

    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "canceled"
    assert refused.status_code == 409
    for _ in range(5):
        steps.run()
    assert len(steps.sent_to()) == 2


def test_a_paced_cohort_running_into_quiet_hours_is_said_to_end_the_next_morning(
    advisor: Person, advisor_api: Any, steps: Steps
) -> None:
    # Five texts at 1 a second from 20:59:58: two leave before 21:00, three wait for 08:00 and
    # leave at the rate. The preview, the progress page and the person page all say 08:00:02
    # tomorrow, not 21:00:02 (the slot the pacer would have used without quiet hours).
    people = _five_students_at_20_59_58(steps)
    ids = [p.pk for p in people]
    preview = advisor_api.post(
        "/api/v1/messages/bulk/preview/", {"recipients": ids, "body": "Hi"}, format="json"
    )
    assert preview.json()["last_leaves_at"] == "2026-12-02T08:00:02Z"

    result = steps.cohort(advisor, people)
    client = Client()
    client.force_login(advisor.user)
    progress = client.get(reverse("cohort-progress-json", args=[result.cohort_id])).json()
    assert progress["pace"].startswith("The last text leaves tomorrow about 08:00")
    last = Message.objects.filter(leaves_at__isnull=False).order_by("leaves_at").last()
    assert last is not None and last.leaves_at == datetime(2026, 12, 1, 21, 0, 2, tzinfo=UTC)
    page = client.get(reverse("person-detail", args=[last.recipient_id])).content.decode()
    assert "leaves tomorrow about 08:00" in page
    assert 'aria-label="Cancel the text waiting to leave at 08:00"' in page

    # What happens agrees: the last text reaches the sandbox at 08:00:02.
    steps.run()  # 20:59:59
    steps.run(11 * 3600 + 1)  # 08:00:00
    steps.run()
    steps.run()
    assert len(steps.sent_to()) == 5
    assert max(steps.per_second) == int(datetime(2026, 12, 2, 8, 0, 2, tzinfo=UTC).timestamp())
