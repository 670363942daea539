"""People, their roles and their phones (P1-P5, T10)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

SYSTEM_PHONE_TYPE_CODE = "SYSTEM"
SYSTEM_SRC_SUFFIX = "AVISO.SMS"
SYSTEM_PHONE_TYPE_SRC = "AVISO.SYSTEM"


class RoleKind(models.TextChoices):
    STAFF = "staff", "Staff"
    STUDENT = "student", "Student"


class Role(models.Model):
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=RoleKind.choices, default=RoleKind.STAFF)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class PhoneType(models.Model):
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=128)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """Somebody the institution knows: a student or a staff member (P1).

    A person is a student when they hold the student role and no staff role.
    """

    src_system_id = models.CharField(max_length=128, unique=True, null=True, blank=True)
    first_name = models.CharField(max_length=128)
    last_name = models.CharField(max_length=128)
    email = models.EmailField(blank=True)
    roles = models.ManyToManyField(Role, blank=True, related_name="people")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_student(self) -> bool:
        kinds = {role.kind for role in self.roles.all()}
        return RoleKind.STUDENT in kinds and RoleKind.STAFF not in kinds


class SmsStatus(models.TextChoices):
    DEFAULT = "default", "SMS Default"
    ENABLED = "enabled", "SMS Enabled"
    DISABLED = "disabled", "SMS Disabled"


class PersonPhone(models.Model):
    """A phone number of a person (P2); system (Twilio) numbers of staff are phones too (P4).

    `number` is stored in E.164, normalised by people.phone_numbers. Deleting is soft.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20, db_index=True)
    phone_type = models.ForeignKey(PhoneType, on_delete=models.PROTECT, related_name="phones")
    sms_status = models.CharField(
        max_length=16, choices=SmsStatus.choices, default=SmsStatus.DEFAULT
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deleted = models.BooleanField(default=False)
    src_system_id = models.CharField(max_length=128, blank=True)
    phone_type_src_system_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["person_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sms_status__in=[s.value for s in SmsStatus]),
                name="personphone_sms_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(number__regex=r"^\+[1-9][0-9]{6,14}$"),
                name="personphone_number_e164",
            ),
        ]
        indexes = [models.Index(fields=["person", "deleted"])]

    def __str__(self) -> str:
        return f"{self.number} ({self.phone_type})"

    @property
    def is_system(self) -> bool:
        return self.phone_type_src_system_id == SYSTEM_PHONE_TYPE_SRC


class StatusCause(models.TextChoices):
    MANUAL = "manual", "Changed by hand"
    OPT_OUT = "opt_out", "Opt-out keyword"
    OPT_IN = "opt_in", "Opt-in keyword"
    STUDENT_INITIATED = "student_initiated", "Student-initiated text"
    ERROR_CODE = "error_code", "Twilio error code"
    IMPORT = "import", "Import"


# Twilio's error for a text to a number that texted STOP: the person's own opt-out, like STOP.
OPT_OUT_ERROR_CODE = 21610

# A change made by the person's own opt-out (STOP, or Twilio's 21610): only an administrator
# lifts the SMS Disabled it set, with a written reason.
OWN_OPT_OUT = Q(cause=StatusCause.OPT_OUT) | Q(
    cause=StatusCause.ERROR_CODE, error_code=OPT_OUT_ERROR_CODE
)


class PhoneStatusChange(models.Model):
    """One change of a phone's SMS status (T10): old, new, cause, who, when, and the editor's
    reason (required when an administrator lifts the person's own opt-out)."""

    phone = models.ForeignKey(PersonPhone, on_delete=models.CASCADE, related_name="status_changes")
    old_status = models.CharField(max_length=16, choices=SmsStatus.choices)
    new_status = models.CharField(max_length=16, choices=SmsStatus.choices)
    cause = models.CharField(max_length=32, choices=StatusCause.choices)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.phone.number}: {self.old_status} -> {self.new_status} ({self.cause})"

    @property
    def is_own_opt_out(self) -> bool:
        return self.cause == StatusCause.OPT_OUT or (
            self.cause == StatusCause.ERROR_CODE and self.error_code == OPT_OUT_ERROR_CODE
        )

    @property
    def cause_text(self) -> str:
        if self.cause == StatusCause.ERROR_CODE and self.error_code:
            return f"Twilio error code {self.error_code}"
        return str(StatusCause(self.cause).label)
