"""Every choice field of every API serializer: each value an answer can carry validates against
the field's schema at /api/schema/, and nothing else does. A model field with `blank=True`
answers "" (a message without a failure has `failure_reason: ""`), one with `null=True` null.

Serializers are found by walking DRF's Serializer subclasses defined in this project, so a
serializer added later is checked without a change here."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from django.core.exceptions import FieldDoesNotExist
from django.test import Client
from rest_framework import serializers
from rest_framework.test import APIClient

# The API modules, imported so that their serializers are subclasses the walk finds.
from messaging import routing
from messaging.api import serializers as messaging_serializers
from messaging.api import serializers_send
from messaging.models import Channel, Direction, Message, Status
from people.api import serializers as people_serializers
from sms_admin.api import serializers as sms_admin_serializers
from tests import factories
from tests.config.test_schema_conformance import _resolve, assert_conforms

pytestmark = pytest.mark.django_db

API_MODULES = (messaging_serializers, serializers_send, people_serializers, sms_admin_serializers)
PROJECT_APPS = ("people.", "sms_admin.", "messaging.", "twilio_bridge.", "config.")


@pytest.fixture
def openapi(client: Client) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/schema/?format=json").json()
    return document


def _project_serializers() -> Iterator[type[serializers.Serializer[Any]]]:
    seen: set[type[Any]] = set()
    pending: list[type[Any]] = [serializers.Serializer]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                pending.append(sub)
                if sub.__module__.startswith(PROJECT_APPS):
                    yield sub


def _model_field(serializer: serializers.Serializer[Any], field: Any) -> Any:
    """The model field a ModelSerializer's field reads, or None."""
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None or "." in field.source or field.source == "*":
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None


def _answer_values(serializer: serializers.Serializer[Any], field: Any) -> set[Any]:
    """What the field may carry in an answer: the stored values when a model field backs it."""
    model_field = _model_field(serializer, field)
    if model_field is not None and model_field.choices:
        values: set[Any] = {value for value, _ in model_field.flatchoices}
        blank, null = model_field.blank, model_field.null
    else:
        values = set(field.choices)
        blank, null = getattr(field, "allow_blank", False), field.allow_null
    if blank:
        values.add("")
    if null:
        values.add(None)
    return values


def _choice_fields() -> Iterator[tuple[str, str, set[Any]]]:
    for cls in _project_serializers():
        try:
            serializer = cls()
            fields = serializer.fields
        except Exception:
            continue
        for name, field in fields.items():
            if isinstance(field, serializers.ChoiceField) and not field.write_only:
                yield (
                    cls.__name__.removesuffix("Serializer"),
                    name,
                    _answer_values(serializer, field),
                )


def test_the_walk_finds_the_api_choice_fields() -> None:
    found = {(component, name) for component, name, _ in _choice_fields()}
    assert {
        ("Message", "failure_reason"),
        ("Message", "status"),
        ("Phone", "sms_status"),
        ("Role", "kind"),
        ("SmsConfiguration", "opt_out_scope"),
        ("Route", "channel"),
    } <= found


def test_every_choice_an_answer_can_carry_validates_against_the_schema(
    openapi: dict[str, Any],
) -> None:
    schemas = openapi["components"]["schemas"]
    checked = 0
    for component, name, values in _choice_fields():
        if component not in schemas:
            continue  # a request-only serializer (its answers use another one)
        prop = schemas[component]["properties"].get(name)
        if prop is None:
            continue
        schema = _resolve(prop, openapi)
        for value in values:
            try:
                jsonschema.validate(value, schema)
            except jsonschema.ValidationError:
                pytest.fail(f"{component}.{name} answers {value!r}, which its schema refuses")
        for stranger in ("no-such-choice", *([] if "" in values else [""])):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(stranger, schema)
        checked += 1
    assert checked >= 8


def test_a_message_without_a_failure_matches_the_schema(
    openapi: dict[str, Any], admin_api: APIClient
) -> None:
    recipient = factories.student()
    message = Message.objects.create(
        direction=Direction.OUTBOUND,
        recipient=recipient,
        channel=Channel.SMS,
        destination="+12025550143",
        body="Hello",
        status=Status.SENT,
    )
    assert message.failure_reason == ""
    for template, url in (
        ("/api/v1/messages/", "/api/v1/messages/"),
        ("/api/v1/messages/{id}/", f"/api/v1/messages/{message.pk}/"),
    ):
        assert_conforms(openapi, template, "GET", admin_api.get(url))


def test_route_enums_are_the_routing_rules_own_values(openapi: dict[str, Any]) -> None:
    route = openapi["components"]["schemas"]["Route"]["properties"]
    channel = _resolve(route["channel"], openapi)
    rule = _resolve(route["rule"], openapi)
    for value in typing.get_args(routing.ChannelValue):
        jsonschema.validate(value, channel)
    for value in typing.get_args(routing.RuleId):
        jsonschema.validate(value, rule)
