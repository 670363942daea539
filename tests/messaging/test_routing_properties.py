"""Properties of the routing rules for random sets of phones (hypothesis); no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from messaging.routing import ConfigFacts, PersonFacts, PhoneFacts, route

T0 = datetime(2024, 1, 1, tzinfo=UTC)
# Few distinct dates, so ties in verified and created dates are common.
moments = st.integers(min_value=0, max_value=5).map(lambda d: T0 + timedelta(days=d))


@st.composite
def phone_sets(draw: st.DrawFn) -> tuple[PhoneFacts, ...]:
    ids = draw(st.lists(st.integers(min_value=1, max_value=10_000), unique=True, max_size=7))
    return tuple(
        PhoneFacts(
            id=phone_id,
            number=f"+1202555{phone_id:04d}",
            type_code=draw(st.sampled_from(["cell", "home", "work"])),
            sms_status=draw(st.sampled_from(["default", "enabled", "disabled"])),
            deleted=draw(st.booleans()),
            verified_at=draw(st.none() | moments),
            created_at=draw(moments),
            is_system=draw(st.booleans()),
        )
        for phone_id in ids
    )


configs = st.builds(
    ConfigFacts,
    student_opted_in=st.booleans(),
    staff_opted_in=st.booleans(),
    default_type_code=st.none() | st.sampled_from(["cell", "home"]),
)
people = st.builds(
    PersonFacts,
    id=st.just(1),
    kind=st.sampled_from(["student", "staff"]),
    email=st.sampled_from(["", "kim@example.edu"]),
    phones=phone_sets(),
)


def qualifies(phone: PhoneFacts, person: PersonFacts, config: ConfigFacts) -> bool:
    """R1-R3 restated independently: may this phone be texted at all?"""
    if phone.deleted or phone.is_system or phone.sms_status == "disabled":
        return False
    if phone.sms_status == "enabled":
        return True
    opted_in = config.student_opted_in if person.kind == "student" else config.staff_opted_in
    return opted_in and phone.type_code == config.default_type_code


@settings(max_examples=400, deadline=None)
@given(person=people, config=configs, data=st.data())
def test_the_route_is_the_same_whatever_the_order_of_the_phones(
    person: PersonFacts, config: ConfigFacts, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(person.phones))

    first = route(person, config)

    assert route(person, config) == first
    assert (
        route(PersonFacts(person.id, person.kind, person.email, tuple(shuffled)), config) == first
    )


@settings(max_examples=400, deadline=None)
@given(person=people, config=configs)
def test_the_route_never_texts_a_deleted_disabled_or_system_phone(
    person: PersonFacts, config: ConfigFacts
) -> None:
    chosen = route(person, config).phone

    assert chosen is None or not (
        chosen.deleted or chosen.sms_status == "disabled" or chosen.is_system
    )


@settings(max_examples=400, deadline=None)
@given(person=people, config=configs)
def test_the_route_picks_at_most_one_phone_and_explains_every_other(
    person: PersonFacts, config: ConfigFacts
) -> None:
    result = route(person, config)

    chosen = [result.phone] if result.phone else []
    assert len(chosen) <= 1
    assert sorted(p.id for p in chosen + [p for p, _ in result.excluded]) == sorted(
        p.id for p in person.phones
    )
    assert all(why for _, why in result.excluded)


@settings(max_examples=400, deadline=None)
@given(person=people, config=configs)
def test_email_is_used_exactly_when_no_phone_qualifies(
    person: PersonFacts, config: ConfigFacts
) -> None:
    result = route(person, config)
    any_qualifies = any(qualifies(p, person, config) for p in person.phones)

    assert (result.channel == "sms") == any_qualifies
    assert (result.channel == "email") == (not any_qualifies and bool(person.email))
    assert (result.channel == "none") == (not any_qualifies and not person.email)


@settings(max_examples=400, deadline=None)
@given(person=people, config=configs)
def test_an_sms_enabled_phone_is_chosen_whenever_one_qualifies(
    person: PersonFacts, config: ConfigFacts
) -> None:
    result = route(person, config)
    enabled = [
        p for p in person.phones if qualifies(p, person, config) and p.sms_status == "enabled"
    ]

    if enabled:
        assert result.phone is not None
        assert result.phone.sms_status == "enabled"
        latest = max((p.verified_at for p in enabled if p.verified_at), default=None)
        assert result.phone.verified_at == latest
