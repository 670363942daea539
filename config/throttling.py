"""Request limits: the API's rate per caller, and the login page's answer to a locked username.

API: DRF's user throttle (a token's user or the logged-in user; anonymous callers by address)
at `API_THROTTLE_RATE`, counted in the default cache, which is Redis in production so every
web process shares the count; over it, 429 with Retry-After. Logins: django-axes counts failed
logins per username in the database and refuses that username for a while after too many; the
login page then says so and for how long. Twilio's webhooks are plain Django views and are never
throttled.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from rest_framework.throttling import UserRateThrottle


class ApiRateThrottle(UserRateThrottle):
    """DRF's per-user throttle; the rate is read when a request arrives (settings may change)."""

    def get_rate(self) -> str:
        return str(settings.API_THROTTLE_RATE)


def _lock_remaining(username: str) -> timedelta:
    """How long `username` stays locked: the wait counts from its last recorded failure."""
    from axes.models import AccessAttempt

    last = AccessAttempt.objects.filter(username=username).aggregate(Max("attempt_time"))
    cool_off: timedelta = settings.AXES_COOLOFF_TIME
    if last["attempt_time__max"] is None:
        return cool_off
    remaining: timedelta = last["attempt_time__max"] + cool_off - timezone.now()
    return max(remaining, timedelta(0))


def lockout_message(remaining: timedelta) -> str:
    minutes = max(1, math.ceil(remaining.total_seconds() / 60))
    return (
        f"Too many failed logins for this username ({settings.AXES_FAILURE_LIMIT} in a row): "
        f"it cannot log in, even with the right password, for {minutes} more "
        f"minute{'s' if minutes != 1 else ''}. Try again then, or ask an administrator to "
        "unlock it."
    )


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer for a locked username: the login page, saying so, with 429."""
    username = request.POST.get("username", "") if request.method == "POST" else ""
    remaining = _lock_remaining(username)
    response = render(
        request,
        "registration/login.html",
        {
            "form": AuthenticationForm(request, initial={"username": username}),
            "lockout": lockout_message(remaining),
            "next": request.POST.get("next", "") or request.GET.get("next", ""),
        },
        status=429,
    )
    response["Retry-After"] = str(max(1, math.ceil(remaining.total_seconds())))
    return response
