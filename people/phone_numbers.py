"""Phone number parsing: every number is stored in E.164, validated with `phonenumbers`."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError


def phone_number_normalize(raw: str, *, region: str | None = None) -> str:
    """Return `raw` in E.164 (+15551234567).

    National input is read in `region` (default PHONE_DEFAULT_REGION).

    :raises ValidationError: when the input is not a valid phone number.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter a phone number.", code="required")
    try:
        parsed = phonenumbers.parse(text, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            f"'{text}' is not a phone number. Use international form, e.g. +1 555 201 2345.",
            code="invalid",
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            f"'{text}' is not a valid phone number. Check the digits and the country code.",
            code="invalid",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
