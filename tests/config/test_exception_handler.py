"""config.api.exception_handler turns the services' Django errors into JSON a person can act on."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from config.api import exception_handler

CONTEXT: dict[str, Any] = {"view": None, "args": (), "kwargs": {}, "request": None}


def test_a_django_validation_error_per_field_is_a_400_per_field() -> None:
    response = exception_handler(ValidationError({"number": "Not a number."}), CONTEXT)
    assert response is not None
    assert (response.status_code, response.data) == (400, {"number": ["Not a number."]})


def test_a_django_validation_error_without_a_field_is_a_400_detail() -> None:
    response = exception_handler(ValidationError("Unknown role code(s): dean."), CONTEXT)
    assert response is not None
    assert (response.status_code, response.data) == (
        400,
        {"detail": "Unknown role code(s): dean."},
    )


def test_several_messages_without_a_field_stay_a_list() -> None:
    response = exception_handler(ValidationError(["First.", "Second."]), CONTEXT)
    assert response is not None
    assert response.data == {"detail": ["First.", "Second."]}


def test_a_django_permission_denied_is_a_403_with_its_message() -> None:
    response = exception_handler(PermissionDenied("Ask a superuser."), CONTEXT)
    assert response is not None
    assert (response.status_code, response.data["detail"]) == (403, "Ask a superuser.")


def test_a_database_uniqueness_error_is_a_400_with_a_message() -> None:
    response = exception_handler(IntegrityError("duplicate key value"), CONTEXT)
    assert response is not None
    assert response.status_code == 400
    assert "already in use" in response.data["detail"]


def test_other_errors_are_left_to_django() -> None:
    assert exception_handler(RuntimeError("bug"), CONTEXT) is None
