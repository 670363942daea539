"""REST representations of roles, phone types, people and phones (the API v1 contract)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from config.serializers import StrictJSON
from people import phone_numbers, services, sis
from people.models import (
    SYSTEM_PHONE_TYPE_CODE,
    SYSTEM_PHONE_TYPE_SRC,
    Person,
    PersonPhone,
    PhoneType,
    Role,
    RoleKind,
    SmsStatus,
)


class RoleSerializer(StrictJSON, serializers.ModelSerializer[Role]):
    kind = serializers.ChoiceField(choices=RoleKind.choices)

    class Meta:
        model = Role
        fields = ["code", "name", "kind"]


class PhoneTypeSerializer(StrictJSON, serializers.ModelSerializer[PhoneType]):
    class Meta:
        model = PhoneType
        fields = ["code", "name"]


class PersonSerializer(StrictJSON, serializers.ModelSerializer[Person]):
    roles = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        queryset=Role.objects.all(),
        required=False,
        error_messages={"does_not_exist": "Unknown role code '{value}'."},
    )
    is_student = serializers.BooleanField(read_only=True)
    # The limits and characters of Django's own username, so a bad one is a 400, never a 500.
    # "" is null (a form post cannot send null: DRF reads its empty value as null).
    username = serializers.CharField(
        source="user.username",
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text='Creates or links the Django login user of a staff member; null or "" '
        "unlinks it.",
    )
    src_system_id = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=128
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "src_system_id",
            "first_name",
            "last_name",
            "email",
            "roles",
            "is_student",
            "username",
        ]

    def validate_src_system_id(self, value: str | None) -> str | None:
        value = value or None
        if value is not None:
            others = Person.objects.filter(src_system_id=value)
            if self.instance is not None:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                raise serializers.ValidationError(f"Another person has src_system_id '{value}'.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user_data = attrs.pop("user", None)
        if user_data is not None:
            username = (user_data.get("username") or "").strip()
            if username:
                linked = Person.objects.filter(user__username=username)
                if self.instance is not None:
                    linked = linked.exclude(pk=self.instance.pk)
                if linked.exists():
                    raise serializers.ValidationError(
                        {"username": f"User '{username}' is already linked to another person."}
                    )
            attrs["username"] = username
        return attrs


class PhoneSerializer(StrictJSON, serializers.ModelSerializer[PersonPhone]):
    phone_type = serializers.SlugRelatedField(
        slug_field="code",
        queryset=PhoneType.objects.all(),
        error_messages={"does_not_exist": "Unknown phone type code '{value}'."},
    )
    # People type numbers with spaces, brackets and extensions: accept more than the stored E.164.
    number = serializers.CharField(max_length=64)
    sms_status = serializers.ChoiceField(choices=SmsStatus.choices, required=False)
    verified = serializers.BooleanField(required=False)
    verified_by = serializers.SerializerMethodField()

    class Meta:
        model = PersonPhone
        fields = [
            "id",
            "number",
            "phone_type",
            "sms_status",
            "verified",
            "verified_at",
            "verified_by",
            "deleted",
            "src_system_id",
            "phone_type_src_system_id",
        ]
        read_only_fields = ["verified_at", "deleted"]

    def get_verified_by(self, phone: PersonPhone) -> str | None:
        return phone.verified_by.get_username() if phone.verified_by else None

    def to_representation(self, instance: PersonPhone) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["verified"] = instance.verified_at is not None
        return data

    def validate_number(self, value: str) -> str:
        try:
            return phone_numbers.phone_number_normalize(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0]) from exc

    def validate_phone_type(self, value: PhoneType) -> PhoneType:
        if value.code == SYSTEM_PHONE_TYPE_CODE:
            raise serializers.ValidationError(services.SYSTEM_PHONE_MESSAGE)
        return value

    def validate_phone_type_src_system_id(self, value: str) -> str:
        if value == SYSTEM_PHONE_TYPE_SRC:
            raise serializers.ValidationError(services.SYSTEM_PHONE_MESSAGE)
        return value


class PhoneUpdateSerializer(PhoneSerializer):
    """PATCH on phones/{id}/ edits the SMS status and the verified mark."""

    # Declared fields ignore Meta.read_only_fields, so these are re-declared read-only.
    number = serializers.CharField(read_only=True)
    phone_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="Why the SMS status changes, kept in the phone's status history. Required "
        "to lift SMS Disabled that the person's own opt-out set (STOP, Twilio error 21610), "
        "which only an administrator may do.",
    )

    class Meta(PhoneSerializer.Meta):
        fields = [*PhoneSerializer.Meta.fields, "reason"]
        read_only_fields = [
            "number",
            "phone_type",
            "verified_at",
            "deleted",
            "src_system_id",
            "phone_type_src_system_id",
        ]

    def to_internal_value(self, data: Any) -> Any:
        """A read-only field in the body is refused, naming it: answering 200 while ignoring it
        would let a client believe it changed the number."""
        if isinstance(data, Mapping):
            read_only = [n for n in data if n in self.fields and self.fields[n].read_only]
            if read_only:
                raise serializers.ValidationError(
                    {name: [READ_ONLY_PHONE_FIELDS.get(name, READ_ONLY)] for name in read_only}
                )
        return super().to_internal_value(data)


READ_ONLY = "This field is read-only. PATCH changes sms_status and verified (and takes a reason)."
READ_ONLY_PHONE_FIELDS = {
    "number": "number is read-only: to change a number, DELETE this phone and add the new "
    "number to the person (POST people/{id}/phones/).",
    "phone_type": "phone_type is read-only: DELETE this phone and add it again with the type.",
    "deleted": "deleted is read-only: DELETE the phone to delete it.",
    "verified_at": "verified_at is read-only: set verified (true or false); the time is now.",
    "verified_by": "verified_by is read-only: set verified; it records who you are.",
    "src_system_id": "src_system_id is read-only: the SIS import sets it.",
    "phone_type_src_system_id": "phone_type_src_system_id is read-only: the SIS import sets it.",
}


SIS_IMPORT_MAX_PEOPLE = 5000


class SisPhoneImportSerializer(StrictJSON):
    """One phone of a person in the SIS feed; the import checks the values row by row."""

    src_system_id = serializers.CharField(allow_blank=True, default="")
    number = serializers.CharField(allow_blank=True, default="")
    phone_type = serializers.CharField(allow_blank=True, default="", help_text="A phone type code.")
    phone_type_src_system_id = serializers.CharField(allow_blank=True, default="")


class SisPersonImportSerializer(StrictJSON):
    """One person of the SIS feed with all of their phones."""

    src_system_id = serializers.CharField(allow_blank=True, default="")
    first_name = serializers.CharField(allow_blank=True, default="")
    last_name = serializers.CharField(allow_blank=True, default="")
    email = serializers.CharField(allow_blank=True, default="")
    roles = serializers.ListField(child=serializers.CharField(), default=list)
    phones = SisPhoneImportSerializer(many=True, default=list)


class SisImportSerializer(StrictJSON):
    people = SisPersonImportSerializer(many=True, allow_empty=False)

    def validate_people(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > SIS_IMPORT_MAX_PEOPLE:
            raise serializers.ValidationError(
                f"Send at most {SIS_IMPORT_MAX_PEOPLE} people per request; split the feed."
            )
        return value

    def sis_rows(self) -> list[sis.SisRow]:
        return [
            sis.SisRow(
                src_system_id=person["src_system_id"],
                first_name=person["first_name"],
                last_name=person["last_name"],
                email=person["email"],
                roles=tuple(person["roles"]),
                phones=tuple(sis.SisPhoneRow(**phone) for phone in person["phones"]),
            )
            for person in self.validated_data["people"]
        ]


class SisImportResultSerializer(serializers.Serializer[Any]):
    people_created = serializers.IntegerField()
    people_updated = serializers.IntegerField()
    people_unchanged = serializers.IntegerField()
    phones_added = serializers.IntegerField()
    phones_updated = serializers.IntegerField()
    phones_deleted = serializers.IntegerField(help_text="Soft-deleted: missing from the feed.")
    phones_unchanged = serializers.IntegerField()


class SisRowErrorSerializer(serializers.Serializer[Any]):
    row = serializers.CharField(help_text='e.g. "people[2]" or "people[2].phones[0]"')
    messages = serializers.ListField(child=serializers.CharField())


# Only for the schema: `errors` cannot be a declared field (it is a Serializer property).
SisImportErrorsSerializer = inline_serializer(
    name="SisImportErrors",
    fields={"detail": serializers.CharField(), "errors": SisRowErrorSerializer(many=True)},
)
