"""Admin for people, roles, phone types and phones (including the Person Phone data view, P5)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from people import phone_numbers, services
from people.models import Person, PersonPhone, PhoneStatusChange, PhoneType, Role


class PersonPhoneForm(forms.ModelForm[PersonPhone]):
    """Numbers typed in the admin are stored in E.164 like everywhere else (P2); without this a
    typed "(202) 555-0143" met the database's E.164 check and the admin answered 500."""

    number = forms.CharField(max_length=64)

    class Meta:
        model = PersonPhone
        fields = [
            "person",
            "number",
            "phone_type",
            "verified_at",
            "verified_by",
            "deleted",
            "src_system_id",
            "phone_type_src_system_id",
        ]

    def clean_number(self) -> str:
        return phone_numbers.phone_number_normalize(self.cleaned_data["number"])

    def clean(self) -> dict[str, Any]:
        """A person's active phones have different numbers (as people.services.phone_create)."""
        cleaned = super().clean() or {}
        person = cleaned.get("person") or getattr(self.instance, "person", None)
        number = cleaned.get("number")
        if person is not None and number and not cleaned.get("deleted"):
            same = (
                PersonPhone.objects.filter(person=person, number=number, deleted=False)
                .exclude(pk=self.instance.pk)
                .first()
            )
            if same is not None:
                self.add_error("number", services.duplicate_number_message(number, same.pk))
        return cleaned


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin[Role]):
    list_display = ["code", "name", "kind"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(PhoneType)
class PhoneTypeAdmin(admin.ModelAdmin[PhoneType]):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class PersonPhoneInline(admin.TabularInline[PersonPhone, Person]):
    model = PersonPhone
    form = PersonPhoneForm
    extra = 0
    fields = ["number", "phone_type", "sms_status", "verified_at", "deleted", "src_system_id"]
    readonly_fields = ["sms_status"]
    show_change_link = True


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin[Person]):
    list_display = ["__str__", "src_system_id", "email", "user"]
    list_filter = ["roles"]
    search_fields = ["first_name", "last_name", "email", "src_system_id", "phones__number"]
    filter_horizontal = ["roles"]
    raw_id_fields = ["user"]
    inlines = [PersonPhoneInline]


@admin.register(PersonPhone)
class PersonPhoneAdmin(admin.ModelAdmin[PersonPhone]):
    form = PersonPhoneForm
    list_display = [
        "number",
        "person",
        "phone_type",
        "sms_status",
        "verified_at",
        "deleted",
        "src_system_id",
        "phone_type_src_system_id",
    ]
    list_filter = ["deleted", "sms_status", "phone_type"]
    search_fields = ["number", "person__first_name", "person__last_name", "src_system_id"]
    list_select_related = ["person", "phone_type"]
    raw_id_fields = ["person", "verified_by"]
    # Status changes go through people.services so they are recorded (T10).
    readonly_fields = ["sms_status"]


@admin.register(PhoneStatusChange)
class PhoneStatusChangeAdmin(admin.ModelAdmin[PhoneStatusChange]):
    list_display = [
        "changed_at",
        "phone",
        "old_status",
        "new_status",
        "cause",
        "error_code",
        "changed_by",
        "reason",
    ]
    list_filter = ["cause", "new_status"]
    search_fields = ["phone__number"]
    list_select_related = ["phone", "changed_by"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
