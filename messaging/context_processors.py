"""The navigation's unread count and the live-update token of every page (V3, V4)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from config.api import is_administrator
from messaging import live


def inbox(request: HttpRequest) -> dict[str, Any]:
    """`live`: the unread counts, cursor and token, read (one indexed query) only when a template
    uses them; a view that computed its own `live` (the inbox pages) replaces it."""
    if not request.user.is_authenticated:
        return {}
    return {
        "live": SimpleLazyObject(
            lambda: live.page_live(
                user_id=request.user.pk or 0, administrator=is_administrator(request.user)
            )
        )
    }
