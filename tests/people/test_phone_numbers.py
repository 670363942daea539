from __future__ import annotations

import re

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from people.phone_numbers import phone_number_normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(202) 555-0143", "+12025550143"),
        ("202.555.0143", "+12025550143"),
        ("+1 202 555 0143", "+12025550143"),
        ("  +12025550143 ", "+12025550143"),
        ("+44 20 7946 0958", "+442079460958"),
        ("011 44 20 7946 0958", "+442079460958"),  # US exit code
    ],
)
def test_national_and_international_input_is_stored_in_e164(raw: str, expected: str) -> None:
    assert phone_number_normalize(raw) == expected


def test_national_input_is_read_in_the_given_region() -> None:
    assert phone_number_normalize("020 7946 0958", region="GB") == "+442079460958"


@pytest.mark.parametrize("raw", ["", "   ", "hello", "12", "+1 000 000 0000", "+99 12345"])
def test_garbage_is_refused_with_a_clear_message(raw: str) -> None:
    with pytest.raises(ValidationError) as exc:
        phone_number_normalize(raw)
    assert "phone number" in exc.value.messages[0]


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("0151 23456789", "DE", "+4915123456789"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+1 202 555 0143", "GB", "+12025550143"),  # international input ignores the region
        ("tel:+1-202-555-0143", None, "+12025550143"),  # RFC 3966, as phones copy it
        ("1 (202) 555-0143", None, "+12025550143"),  # with the national trunk prefix
        ("+1 202 555 0143 ext. 12", None, "+12025550143"),  # extensions are not dialled by SMS
    ],
)
def test_national_input_of_other_regions_and_usual_decorations_are_understood(
    raw: str, region: str | None, expected: str
) -> None:
    assert phone_number_normalize(raw, region=region) == expected


def test_the_default_region_comes_from_the_settings(settings: object) -> None:
    settings.PHONE_DEFAULT_REGION = "GB"  # type: ignore[attr-defined]
    assert phone_number_normalize("020 7946 0958") == "+442079460958"


@pytest.mark.parametrize(
    "raw",
    [
        "+1 202 555 01434",  # one digit too many
        "+44 20 7946",  # too short for the UK
        "0000000000",
        "+1" + "9" * 30,
        "(202) 555-O143",  # a letter O for a zero is a vanity number, not these digits
        "202-555-0143 / 202-555-0144",
    ],
)
def test_numbers_that_do_not_exist_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        phone_number_normalize(raw)


E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@given(st.text(max_size=40))
@example("+1 202 555 0143")
@example("\x00")
@example("٢٠٢٥٥٥٠١٤٣")  # Arabic-Indic digits
def test_any_text_is_either_refused_with_a_message_or_stored_in_e164(raw: str) -> None:
    try:
        number = phone_number_normalize(raw)
    except ValidationError as exc:
        assert exc.messages
    else:
        assert E164.match(number), number
        assert phone_number_normalize(number) == number


REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


@given(
    st.sampled_from(REGIONS),
    st.sampled_from(
        [
            phonenumbers.PhoneNumberFormat.E164,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            phonenumbers.PhoneNumberFormat.RFC3966,
        ]
    ),
)
def test_every_regions_example_number_written_internationally_normalises_to_e164(
    region: str, style: int
) -> None:
    example_number = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(region)
    if example_number is None:
        return
    written = phonenumbers.format_number(example_number, style)
    expected = phonenumbers.format_number(example_number, phonenumbers.PhoneNumberFormat.E164)
    assert phone_number_normalize(written) == expected


@given(st.sampled_from(REGIONS))
def test_every_regions_example_number_written_nationally_normalises_in_that_region(
    region: str,
) -> None:
    example_number = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(region)
    if example_number is None:
        return
    written = phonenumbers.format_number(example_number, phonenumbers.PhoneNumberFormat.NATIONAL)
    expected = phonenumbers.format_number(example_number, phonenumbers.PhoneNumberFormat.E164)
    assert phone_number_normalize(written, region=region) == expected
