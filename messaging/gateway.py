"""What the send pipeline needs from an SMS provider, and what it hears back.

messaging owns sending (claim, send, record, reconcile, sweep) and talks to the provider only
through a `Gateway`. The Twilio one lives in twilio_bridge.gateway (`from_settings()`); tests
may pass their own.

Every answer to a send is one of four outcomes:

- ACCEPTED: the provider took the text (it has a SID);
- REFUSED: a permanent refusal with an error code (21610, 21211, ...): apply the error-code policy;
- TRANSIENT: the provider certainly did not take it (429, 5xx, no connection): send again later;
- AMBIGUOUS: the request may have reached the provider (a timeout after it left): never sent again
  blindly, looked up instead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    TRANSIENT = "transient"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    sid: str = ""
    status: str = ""
    error_code: int | None = None
    http_status: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class RemoteMessage:
    """A message as the provider holds it (for reconciling an ambiguous send)."""

    sid: str
    status: str
    to: str
    from_: str
    body: str
    error_code: int | None
    date_created: datetime | None


class Gateway(Protocol):
    def send(self, *, to: str, body: str, from_: str, token: str) -> SendResult:
        """Send one text; `token` is ours, for the status callback. Never raises for a
        provider or network failure."""
        ...

    def lookup(self, *, to: str, from_: str) -> list[RemoteMessage] | None:
        """The provider's recent messages from `from_` to `to`, newest first; None when it
        cannot be asked now (then nothing may be concluded)."""
        ...
