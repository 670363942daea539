"""Idempotent API sends: a client that sends `Idempotency-Key: <key>` with `POST messages/` or
`POST messages/bulk/` may repeat the request (its first attempt timed out, the connection
dropped) and gets the first answer back instead of a second send.

Keys belong to the sender (two senders may use the same key). The same key with another request
body is refused (422). The key is written in the caller's transaction, with what the request
records: a request refused or rolled back leaves no key. Keys are honoured for
SEND_REQUEST_KEEP_DAYS (default 7), then purged by a daily beat job.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging.models import SendRequest
from people.models import Person

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255


class IdempotencyConflict(Exception):
    """The key was used before in a way that forbids serving this request (409 or 422)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class Replay:
    """The first answer to a request made again with the same key."""

    status_code: int
    response: Any


def key_check(key: str) -> str:
    """A key is 1 to 255 visible ASCII characters (a UUID is the usual choice)."""
    if not key or len(key) > KEY_MAX_LENGTH or not all(" " < ch <= "~" for ch in key):
        raise ValidationError(
            {
                HEADER: f"Use 1 to {KEY_MAX_LENGTH} visible ASCII characters (no spaces), "
                "e.g. a UUID, and the same value when you repeat the request."
            }
        )
    return key


def fingerprint(path: str, data: Any) -> str:
    """What a repeat must match: the path and the request body (key order does not matter)."""
    canonical = json.dumps([path, data], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def send_request_begin(
    *, sender: Person, key: str, fingerprint: str
) -> tuple[SendRequest | None, Replay | None]:
    """Record that `sender` starts the request `key`, or find the earlier one.

    Returns `(request, None)` for a new key: the caller serves it and calls
    `send_request_finish`. Returns `(None, replay)` when the same request was answered before.
    Two requests racing with one key are serialised by the unique constraint: the second waits
    for the first to commit, then replays its answer.

    :raises IdempotencyConflict: 422 when the key came with another body; 409 when the earlier
        request has no answer (cannot happen when the key and the answer are written in one
        transaction, as the API does; kept for a caller that commits in between).
    """
    earlier = None
    for _ in range(3):
        try:
            with transaction.atomic():
                created = SendRequest.objects.create(
                    sender=sender, key=key, fingerprint=fingerprint
                )
            return created, None
        except IntegrityError:
            # Taken by a request that has committed since; if that row is gone again, try to
            # take the key once more.
            earlier = SendRequest.objects.filter(sender=sender, key=key).first()
            if earlier is not None:
                break
    if earlier is None:
        raise IdempotencyConflict(409, f"The {HEADER} {key!r} is in use; repeat the request.")
    if earlier.fingerprint != fingerprint:
        raise IdempotencyConflict(
            422,
            f"The {HEADER} {key!r} was used for another request. Use a new key for a new "
            "request, and the same key only to repeat one.",
        )
    if earlier.status_code is None:
        raise IdempotencyConflict(
            409,
            f"The request with {HEADER} {key!r} started at {earlier.created_at:%Y-%m-%d %H:%M:%S} "
            "UTC has not finished (it is still running or was interrupted); nothing was sent "
            "again. Check the Message Report before sending with a new key.",
        )
    return None, Replay(status_code=earlier.status_code, response=earlier.response)


def send_request_finish(*, request: SendRequest, status_code: int, response: Any) -> None:
    """Keep the answer, for repeats of the request."""
    request.status_code, request.response = status_code, response
    request.save(update_fields=["status_code", "response"])


def send_requests_purge(*, older_than_days: int) -> int:
    """Forget keys older than `older_than_days` (a repeat after that sends again); returns how
    many were purged."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = SendRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
