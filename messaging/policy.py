"""The Twilio error-code policy (T3): what an error code does to the phones and the message.

The table lives in sms_admin.ErrorCodePolicy (seeded with T3's defaults, editable by
administrators). Used both when Twilio refuses a send synchronously and when a status callback
reports a failure later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from messaging import outbox
from people import services as people_services
from people.models import PersonPhone, SmsStatus, StatusCause
from sms_admin import services as sms_admin_services
from sms_admin.models import ErrorCodePolicy, OptOutScope, PolicyAction

logger = logging.getLogger(__name__)

# An error code that is not in the table: fall back to email, touch no phone.
UNKNOWN_CODE_REASON = "TWILIO_UNREACHABLE"


@dataclass(frozen=True)
class PolicyDecision:
    action: str
    failure_reason: str
    # Try the text again later, with backoff; every action ends in the email fallback.
    retry: bool


def error_policy_lookup(code: int | None) -> PolicyDecision:
    """The decision for a Twilio error code, without side effects."""
    policy = ErrorCodePolicy.objects.filter(code=code).first() if code else None
    if policy is None:
        return PolicyDecision(
            action="unknown",
            failure_reason=UNKNOWN_CODE_REASON,
            retry=False,
        )
    action = policy.action
    return PolicyDecision(
        action=action,
        failure_reason=policy.failure_reason,
        retry=action in {PolicyAction.RETRY, PolicyAction.RETRY_THEN_EMAIL},
    )


def opt_out_apply(
    *, phones: Iterable[PersonPhone], scope: str, cause: str, error_code: int | None = None
) -> None:
    """Disable after an opt-out (STOP, T4; 21610, T3): only `phones` with the "this phone"
    scope, otherwise every active phone of their people. Each change is recorded (T10)."""
    phones = list(phones)
    if scope == OptOutScope.THIS_PHONE:
        for phone in phones:
            people_services.phone_status_set(
                phone=phone, status=SmsStatus.DISABLED, cause=cause, error_code=error_code
            )
        return
    for person_id in dict.fromkeys(p.person_id for p in phones):
        people_services.person_phones_disable(
            person_id=person_id, cause=cause, error_code=error_code
        )


def error_policy_apply(*, code: int | None, phone: PersonPhone | None) -> PolicyDecision:
    """Apply the phone side of the policy for `code` on `phone` and return the decision.

    Disabling records a status change with cause `error_code` and the code (T10). A sender-side
    error never touches the student's phone; it is logged for administrators.
    """
    decision = error_policy_lookup(code)
    if phone is not None and decision.action == PolicyAction.DISABLE_ALL_PHONES:
        # 21610 follows the opt-out scope, as a STOP keyword does (T4).
        opt_out_apply(
            phones=[phone],
            scope=sms_admin_services.configuration_get().opt_out_scope,
            cause=StatusCause.ERROR_CODE,
            error_code=code,
        )
    elif phone is not None and decision.action == PolicyAction.DISABLE_PHONE:
        people_services.phone_status_set(
            phone=phone, status=SmsStatus.DISABLED, cause=StatusCause.ERROR_CODE, error_code=code
        )
    if decision.action == PolicyAction.SENDER_SIDE:
        admins_alert(code=code, reason=decision.failure_reason)
    return decision


def admins_alert(*, code: int | None, reason: str) -> None:
    """Tell administrators about a sender-side Twilio error (T3): a log line every time, and an
    email to every administrator with an address at most once an hour per code (a campaign
    failing on an unregistered number must not send one email per text), written to the outbox
    in the caller's transaction and sent by a worker after commit."""
    logger.error(
        "Twilio error %s (%s) is on the sender's side: check the messaging service "
        "registration and geo permissions.",
        code,
        reason,
    )
    # No SMTP inside Twilio's webhook request; nothing sent for a change that rolls back.
    outbox.admins_alert_add(code=code, reason=reason)
