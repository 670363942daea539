from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

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
