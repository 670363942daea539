"""Template tags of pacing (K7): when a text waiting for its sender number's pace leaves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

from messaging import cohorts, pacing
from sms_admin import services as sms_admin_services

register = template.Library()


@register.simple_tag(takes_context=True)
def paced_departure(context: Any, planned: datetime) -> dict[str, Any]:
    """When a text planned to leave at `planned` leaves, quiet hours counted: `at` (the instant)
    and `words` ("about 14:32", "tomorrow about 08:00"). The configuration is read once per
    page."""
    cache = context.render_context
    quiet = cache.get("quiet_hours_window")
    if quiet is None:
        configuration = sms_admin_services.configuration_get()
        quiet = cache["quiet_hours_window"] = (
            configuration.quiet_hours_start,
            configuration.quiet_hours_end,
        )
    now = timezone.now()
    at = pacing.departure(planned, planned, now, quiet)
    return {"at": at, "words": cohorts.leaves_words(at, now, timezone.get_current_timezone())}
