"""Template filters of the inbox: how long a reply has waited (V5)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from messaging import inbox

register = template.Library()


@register.filter
def waited(since: datetime | None) -> str:
    """ "waiting 3 h" for a needs-reply conversation waiting since `since`; "" otherwise."""
    if since is None:
        return ""
    return inbox.waited_words((timezone.now() - since).total_seconds())
