"""Request limits: the API's rate per caller, and the login page's answer to a locked username.

API: DRF's user throttle (a token's user or the logged-in user; anonymous callers by address)
at `API_THROTTLE_RATE`, counted in the default cache, which is Redis in production so every
web process shares the count; over it, 429 with Retry-After. Logins: django-axes counts failed
logins per username in the database and refuses that username for a while after too many; the
login page then says so and for how long. Twilio's webhooks are plain Django views and are never
throttled.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.connection import ConnectionProxy
from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)


class ApiRateThrottle(UserRateThrottle):
    """DRF's per-user throttle, counted in fixed windows; the rate is read when a request
    arrives (settings may change).

    DRF's own throttle keeps the time of every request of the window in one cache entry, read
    and written whole on each request: at 1,000 a minute a busy integration moves a list of up
    to 1,000 times in and out of Redis per request. Here each caller has one counter per window
    (`add`, then `incr`: two small round trips, whatever the rate). A caller may make up to twice
    the rate across the boundary of two windows; the Retry-After is the time to the next one.
    """

    retry_after = 0.0

    def get_rate(self) -> str:
        return str(settings.API_THROTTLE_RATE)

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        limit, duration = self.parse_rate(self.rate)
        assert limit is not None and duration is not None
        now = float(self.timer())
        window = int(now // duration)
        self.retry_after = (window + 1) * duration - now
        try:
            count = self._count(f"{ident}:{window}", duration + 1)
        except Exception:
            # The count lives in Redis: while Redis is unreachable or silent (each call gives
            # up after REDIS_SOCKET_TIMEOUT_SECONDS), requests go through uncounted rather than
            # failing; sends are recorded and published by the sweep once Redis is back.
            logger.warning("Request not counted: the cache is unreachable", exc_info=True)
            return True
        return count <= limit

    def _count(self, key: str, timeout: int) -> int:
        """This request's number in its window."""
        cache = _backend(self.cache)
        if isinstance(cache, RedisCache):
            # One command: INCR makes a missing counter, which is then dated (a script, so
            # no client pipeline to build and no second reply to parse).
            _, _, count = _redis_client(cache)
            return int(count(keys=[cache.make_and_validate_key(key)], args=[timeout]))
        # Another cache (in-process, tests): make the window's counter once, then add to it.
        cache.add(key, 0, timeout=timeout)
        try:
            return int(cache.incr(key))
        except ValueError:
            # Expired between the two calls: this request opens the window.
            cache.add(key, 1, timeout=timeout)
            return 1

    def wait(self) -> float | None:
        return max(0.0, self.retry_after)


def _backend(cache: Any) -> BaseCache:
    """The cache itself: DRF's throttles hold `django.core.cache.cache`, a proxy that is no
    RedisCache instance (checked on the proxy, the one-round-trip count was never used)."""
    if isinstance(cache, ConnectionProxy):
        return cache._connections[cache._alias]  # type: ignore[no-any-return]
    return cache  # type: ignore[no-any-return]


# One Redis client per connection pool of the cache: Django's cache makes a new client object
# for every command (about 0.1 ms of Python each); the clients share the pool's connections.
_clients: dict[int, tuple[Any, Any, Any]] = {}

# The window's counter, dated when this request made it.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _redis_client(cache: RedisCache) -> tuple[Any, Any, Any]:
    pool = cache._cache._get_connection_pool(write=True)  # type: ignore[attr-defined]
    found = _clients.get(id(pool))
    if found is None or found[0] is not pool:
        client = cache._cache._client(connection_pool=pool)  # type: ignore[attr-defined]
        found = (pool, client, client.register_script(_COUNT_SCRIPT))
        _clients[id(pool)] = found
    return found


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
