"""Releasing a sender-number assignment from the Phone Number Usage grid (S8).

The sending pipeline owns assigning numbers; this module only frees them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from people import services as people_services
from people.models import PersonPhone
from sms_admin.models import SenderAssignment


def sender_assignment_release(*, assignment: SenderAssignment, actor: Any) -> SenderAssignment:
    """Un-assign a number: mark the assignment released (when, by whom) and soft-delete the staff
    member's system phone, in one transaction. The number is then free for the next new sender.

    The update is conditional on the assignment still being active, so two administrators
    deleting the same row release it once.

    :raises ValidationError: when the assignment was already released.
    """
    now = timezone.now()
    released_by = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        changed = SenderAssignment.objects.filter(
            pk=assignment.pk, released_at__isnull=True
        ).update(released_at=now, released_by=released_by)
        if not changed:
            raise ValidationError("This number was already un-assigned.", code="already_released")
        phone = PersonPhone.objects.select_for_update().get(pk=assignment.phone_id)
        people_services.phone_delete(phone=phone)
    assignment.released_at, assignment.released_by = now, released_by
    return assignment
