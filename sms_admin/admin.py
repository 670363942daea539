"""Admin for the configuration history, the sender pool, assignments, usage and the T3 policy."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from people import phone_numbers
from sms_admin import services
from sms_admin.models import (
    ConfigurationChange,
    ErrorCodePolicy,
    MonthlyUsage,
    SenderAssignment,
    SenderNumber,
    UsageAlert,
)


@admin.register(ConfigurationChange)
class ConfigurationChangeAdmin(admin.ModelAdmin[ConfigurationChange]):
    list_display = ["changed_at", "field", "old_value", "new_value", "changed_by"]
    list_filter = ["field"]
    search_fields = ["field", "old_value", "new_value"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


class SenderNumberForm(forms.ModelForm[SenderNumber]):
    """A pool number is stored in E.164, so it matches the From of Twilio's webhooks."""

    number = forms.CharField(max_length=64)

    class Meta:
        model = SenderNumber
        fields = ["number"]

    def clean_number(self) -> str:
        number = phone_numbers.phone_number_normalize(self.cleaned_data["number"])
        others = SenderNumber.objects.filter(number=number).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(f"{number} is already in the pool.")
        return number


@admin.register(SenderNumber)
class SenderNumberAdmin(admin.ModelAdmin[SenderNumber]):
    form = SenderNumberForm
    list_display = ["number", "created_at"]
    search_fields = ["number"]

    def get_readonly_fields(self, request: HttpRequest, obj: SenderNumber | None = None) -> Any:
        # Changing the digits of a provisioned number would strand its holder's system phone.
        return ["number"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: SenderNumber, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
        else:
            obj.pk = services.sender_number_add(number=obj.number, actor=request.user).pk


class HeldByStudentFilter(admin.SimpleListFilter):
    """S9: active assignments held by students (not allowed since 2021-10-01)."""

    title = "held by a student"
    parameter_name = "held_by_student"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes (S9: delete these)")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[SenderAssignment]
    ) -> QuerySet[SenderAssignment]:
        if self.value() == "yes":
            from sms_admin import pool

            return queryset.filter(pk__in=pool.student_held_assignments().values("pk"))
        return queryset


@admin.action(description="Un-assign the selected numbers (soft-deletes the system phones)")
def release_assignments(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[SenderAssignment]
) -> None:
    from sms_admin import pool

    released = 0
    for assignment in queryset.filter(released_at__isnull=True):
        try:
            pool.sender_assignment_release(assignment_id=assignment.pk, actor=request.user)
        except ValidationError:
            continue  # released meanwhile by someone else: nothing left to do
        released += 1
    modeladmin.message_user(request, f"Un-assigned {released} number(s).")


@admin.register(SenderAssignment)
class SenderAssignmentAdmin(admin.ModelAdmin[SenderAssignment]):
    list_display = [
        "sender_number",
        "person",
        "assigned_at",
        "released_at",
        "assigned_while_resting",
    ]
    list_filter = [
        HeldByStudentFilter,
        ("released_at", admin.EmptyFieldListFilter),
        "assigned_while_resting",
        "person__roles",
    ]
    actions = [release_assignments]
    search_fields = ["sender_number__number", "person__first_name", "person__last_name"]
    list_select_related = ["sender_number", "person"]
    raw_id_fields = ["person", "phone", "released_by"]


@admin.register(MonthlyUsage)
class MonthlyUsageAdmin(admin.ModelAdmin[MonthlyUsage]):
    """Read-only: the counter is moved only by sends (S3); an edit would break the quota."""

    list_display = ["year", "month", "sent"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ErrorCodePolicy)
class ErrorCodePolicyAdmin(admin.ModelAdmin[ErrorCodePolicy]):
    """The T3 table; every edit lands in the configuration's change history (C10)."""

    list_display = ["code", "meaning", "action", "failure_reason"]
    list_filter = ["action"]
    search_fields = ["code", "meaning", "failure_reason"]

    def save_model(
        self, request: HttpRequest, obj: ErrorCodePolicy, form: Any, change: bool
    ) -> None:
        services.error_code_policy_save(policy=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: ErrorCodePolicy) -> None:
        services.error_code_policy_delete(policy=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ErrorCodePolicy]) -> None:
        for policy in queryset:
            services.error_code_policy_delete(policy=policy, actor=request.user)


@admin.register(UsageAlert)
class UsageAlertAdmin(admin.ModelAdmin[UsageAlert]):
    """The administrators' usage alerts (A2): what was emailed, and when; read-only."""

    list_display = ["year", "month", "kind", "person", "created_at", "emailed_at"]
    list_filter = ["kind"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
