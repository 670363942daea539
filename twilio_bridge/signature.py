"""X-Twilio-Signature checking for the webhook views (T1).

The URL Twilio signed is rebuilt from settings.PUBLIC_BASE_URL plus the path and the raw query
string of the request, never from the Host header or the scheme the app sees: behind a TLS proxy
the app sees http://internal-host while Twilio signed https://public-host.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable
from urllib.parse import urlparse

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from twilio.request_validator import RequestValidator, add_port, remove_port

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"

View = Callable[..., HttpResponse]


def public_url(request: HttpRequest) -> str:
    """The URL Twilio called: the configured public base, the path, the query string as sent."""
    url = settings.PUBLIC_BASE_URL.rstrip("/") + request.path
    query = request.META.get("QUERY_STRING", "")
    if query:
        url += "?" + query
    return url


def signature_valid(*, url: str, params: object, signature: str) -> bool:
    """Whether `signature` is Twilio's HMAC-SHA1 of `url` and `params` under the auth token.

    Twilio is inconsistent about the port in the signed URL, so both forms are accepted (as the
    SDK's own `validate` does); the comparison is constant-time.
    """
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    parsed = urlparse(url)
    candidates = {remove_port(parsed), add_port(parsed)}
    given = signature.encode()
    valid = False
    for candidate in candidates:
        expected = validator.compute_signature(candidate, params).encode()
        valid |= hmac.compare_digest(expected, given)
    return valid


def _forbidden(detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=403)


def twilio_signature_required(view: View) -> View:
    """Answer 403 (and run nothing) unless the request carries Twilio's valid signature, and
    always while the webhooks are closed (no real credentials outside the embedded default)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not settings.TWILIO_WEBHOOKS_OPEN:
            logger.warning(
                "Twilio webhook %s refused: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set",
                request.path,
            )
            return _forbidden(
                "Twilio webhooks are closed: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (the "
                "local sandbox's token is accepted only in the embedded default, DJANGO_DEBUG on "
                "and no Twilio credentials)."
            )
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            logger.warning("Twilio webhook %s without %s", request.path, SIGNATURE_HEADER)
            return _forbidden(f"Missing {SIGNATURE_HEADER} header.")
        url = public_url(request)
        if not signature_valid(url=url, params=request.POST, signature=signature):
            logger.warning("Twilio webhook with a wrong signature for %s", url)
            return _forbidden(f"Invalid {SIGNATURE_HEADER} for {url}.")
        return view(request, *args, **kwargs)

    return wrapper
