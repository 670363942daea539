"""Message templates: named bodies administrators keep, offered to staff who may send texts.

Checked when saved as a text is when sent: not empty, no unknown merge field, and (without merge
fields) within smsMaxLength; a body with merge fields is measured again per recipient at send.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from messaging import merge
from messaging.models import MessageTemplate
from sms_admin import services as sms_admin_services


def templates_list() -> QuerySet[MessageTemplate]:
    return MessageTemplate.objects.order_by("name", "pk")


def template_validate(*, name: str, body: str) -> None:
    """:raises ValidationError: naming the field that is wrong."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Give the template a name."
    if not body.strip():
        errors["body"] = "Write the template's text: it is empty."
    elif merge.refusal(body):
        errors["body"] = merge.refusal(body)
    else:
        limit = sms_admin_services.configuration_get().sms_max_length
        if not merge.placeholders(body) and len(body) > limit:
            errors["body"] = (
                f"The text is {len(body)} characters long; the limit is {limit} (smsMaxLength)."
            )
    if errors:
        raise ValidationError(errors)


def template_save(
    *, name: str, body: str, template: MessageTemplate | None = None
) -> MessageTemplate:
    """Create a template, or change `template`.

    :raises ValidationError: when the name or the body is not acceptable, or the name is taken.
    """
    template_validate(name=name, body=body)
    target = template or MessageTemplate()
    target.name, target.body = name.strip(), body
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise ValidationError(
            {"name": f"A template named “{target.name}” already exists; choose another name."}
        ) from None
    return target


def template_delete(*, template: MessageTemplate) -> None:
    template.delete()
