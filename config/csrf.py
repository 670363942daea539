"""The page shown when a form's CSRF check fails: why, and what to do (Django's own page says
only "CSRF verification failed" once DEBUG is off)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if reason == REASON_NO_CSRF_COOKIE and settings.CSRF_COOKIE_SECURE and not request.is_secure():
        explanation = (
            "This site's cookies travel over https only (DJANGO_SECURE_COOKIES is on), but "
            "this page was opened over plain http, so the browser did not send them back. Open "
            "the site through its https address; for a trial without TLS, the operator sets "
            "DJANGO_SECURE_COOKIES=false."
        )
    elif reason == REASON_NO_CSRF_COOKIE:
        explanation = (
            "Your browser did not send this site's cookie back. Allow cookies for this site, "
            "then reload the page and try again."
        )
    else:
        explanation = (
            "The form's security token is missing or out of date (the page was open for long, "
            "or you logged in or out in another tab). Reload the page and try again."
        )
    return render(request, "403_csrf.html", {"explanation": explanation}, status=403)
