"""Serializer pieces every REST app shares: the error body, and JSON bodies held to the types
the OpenAPI schema publishes.

DRF reads `{"body": 0}` as the text "0", `{"recipient": "7"}` as 7 and `{"verified": "no"}` as
false: lenient for form posts, where every value is text, but a JSON client sending the wrong
type has a bug the API should name, and the schema says "string", "integer", "boolean". A
serializer that takes input inherits `StrictJSON`: in a JSON body (a dict, not a form's
QueryDict) each field's value must have the field's JSON type, or the field gets "Must be a JSON
string (got number)."; a relation takes null, never "", for none. Nested serializers check their
own fields; nulls are left to `allow_null`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer[Any]):
    """The body of every error answer that is not about fields: `{"detail": "..."}`."""

    detail = serializers.CharField(help_text="What went wrong and what to do, in words.")


_STRING_FIELDS = (
    serializers.CharField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.TimeField,
    serializers.DurationField,
    serializers.UUIDField,
    serializers.SlugRelatedField,
    serializers.HyperlinkedRelatedField,
)
_NUMBER_FIELDS = (
    serializers.IntegerField,
    serializers.FloatField,
    serializers.PrimaryKeyRelatedField,
)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, Mapping) else type(value).__name__


def _expected(field: serializers.Field[Any, Any, Any, Any]) -> str | None:
    """The JSON type `field` takes, when it takes exactly one scalar type."""
    if isinstance(field, serializers.BooleanField):
        return "boolean"
    if isinstance(field, _NUMBER_FIELDS):
        return "number"
    if isinstance(field, serializers.ChoiceField):
        return "string" if all(isinstance(key, str) for key in field.choices) else None
    if isinstance(field, _STRING_FIELDS):
        return "string"
    return None


def _type_error(field: Any, value: Any) -> Any:
    """The error for `value` in `field`, in DRF's shape (a list, or index -> list), or None."""
    if value is None:
        return None
    if isinstance(field, serializers.ListField | serializers.ManyRelatedField):
        child = field.child if isinstance(field, serializers.ListField) else field.child_relation
        if not isinstance(value, list):
            # DRF would read an object's keys as the list's items.
            return [f"Must be a JSON array, a list of items (got {_json_type(value)})."]
        errors = {i: error for i, item in enumerate(value) if (error := _type_error(child, item))}
        return errors or None
    if value == "" and isinstance(field, serializers.RelatedField):
        # DRF reads "" as null in a relation (a form's empty choice); JSON has null for that.
        return [
            "Must not be empty: use null for none." if field.allow_null else "Must not be empty."
        ]
    expected = _expected(field)
    if expected is None or _json_type(value) == expected:
        return None
    return [f"Must be a JSON {expected} (got {_json_type(value)})."]


class StrictJSON(serializers.Serializer[Any]):
    """Refuses, in a JSON body, values whose JSON type is not the field's (see the module)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = {
                name: error
                for name, field in self.fields.items()
                if not field.read_only
                and name in data
                and (error := _type_error(field, data[name])) is not None
            }
            if errors:
                # The other fields' errors too, so a client hears of every field at once.
                rest = {name: value for name, value in data.items() if name not in errors}
                try:
                    super().to_internal_value(rest)
                except serializers.ValidationError as exc:
                    if isinstance(exc.detail, Mapping):
                        errors = {**exc.detail, **errors}
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
