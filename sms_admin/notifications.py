"""The reply-notification email templates (C5): only the documented placeholders exist, and a
template that does not render is refused when it is saved, never when it is sent."""

from __future__ import annotations

import string

from django.core.exceptions import ValidationError

PLACEHOLDERS: dict[str, str] = {
    "staff_name": "the staff member who sent the text",
    "student_name": "the person who replied",
    "reply_text": "the text of the reply",
    "time": "when the reply arrived, in the institution's time zone",
    "conversation_link": "a link to the conversation on the person page",
}
SAMPLE = {
    "staff_name": "Alex Advisor",
    "student_name": "Sam Student",
    "reply_text": "Yes, Tuesday at 10 works for me.",
    "time": "2026-09-14 10:32",
    "conversation_link": "https://sms.example.edu/people/42/#conversation",
}


def template_validate(template: str) -> None:
    """:raises ValidationError: on broken braces or a placeholder that does not exist."""
    try:
        parts = [
            (name, spec, conv)
            for _, name, spec, conv in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as exc:
        raise ValidationError(
            f"The template does not render: {exc}. Write literal braces as {{{{ and }}}}.",
            code="template_syntax",
        ) from exc
    for name, spec, conv in parts:
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            shown = "{" + name + "}" if name else "{}"
            raise ValidationError(
                f"Unknown placeholder {shown}. Available placeholders: {known}.",
                code="template_placeholder",
            )
        if spec or conv:
            raise ValidationError(
                f"Placeholder {{{name}}} cannot have a format or conversion; write {{{name}}}.",
                code="template_placeholder",
            )


def template_render(template: str, values: dict[str, str]) -> str:
    return template.format_map({k: values.get(k, "") for k in PLACEHOLDERS})
