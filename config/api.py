"""Shared REST pieces: permission classes and an exception handler that turns the services'
Django errors into JSON a person can act on (never a 500 for bad input)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler


def is_administrator(user: Any) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


def is_integration(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.groups.filter(name="integrations").exists())


def is_staff_member(user: Any) -> bool:
    """Administrators, and users linked to a person who is not a student (P1)."""
    if is_administrator(user):
        return True
    person = getattr(user, "person", None) if user and user.is_authenticated else None
    return person is not None and not person.is_student


class IsAdministrator(permissions.BasePermission):
    message = "Only administrators may do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_administrator(request.user)


class IsAdminOrIntegration(permissions.BasePermission):
    message = "Only administrators and integrations may do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_administrator(request.user) or is_integration(request.user)


class IsStaffMember(permissions.BasePermission):
    message = "Only staff members may do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_staff_member(request.user)


class AdminWritesStaffReads(permissions.BasePermission):
    """Staff read; only administrators write (roles, phone types)."""

    message = "Only administrators may change this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return is_staff_member(request.user) or is_integration(request.user)
        return is_administrator(request.user)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail: Any = exc.message_dict
        else:
            # One message reads as DRF's own {"detail": "..."}; several stay a list.
            messages = exc.messages
            detail = {"detail": messages[0] if len(messages) == 1 else messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, SuspiciousOperation):
        # Django's own limits on a request (too many form fields, too large a form body).
        request = context.get("request")
        exc = exceptions.ParseError(
            suspicious_request_message(exc, getattr(request, "content_type", ""))
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_not_found_words(exc, context))
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError(
            {
                "detail": "This conflicts with data that changed meanwhile (a value already in "
                "use, or a record deleted). Reload and try again."
            }
        )
    return drf_exception_handler(exc, context)


# Django's words for an unknown id (get_object_or_404), which name a model class.
_DJANGO_NOT_FOUND = re.compile(r"No (\w+) matches the given query\.")


def _not_found_words(exc: Http404, context: dict[str, Any]) -> str:
    """A view's 404 in words: "There is no person with id 7." rather than Django's "No Person
    matches the given query."; a view's own message is kept."""
    found = _DJANGO_NOT_FOUND.fullmatch(str(exc))
    if found is None:
        return str(exc) or "Not found."
    model = next((m for m in apps.get_models() if m._meta.object_name == found[1]), None)
    noun = str(model._meta.verbose_name) if model is not None else "such record"
    ids = [str(value) for value in (context.get("kwargs") or {}).values()]
    return f"There is no {noun} with id {ids[-1]}." if ids else f"There is no such {noun}."


def suspicious_request_message(exc: SuspiciousOperation, content_type: str = "") -> str:
    """What a client hears when Django refuses its request's size or field count
    (`content_type` its body's: a JSON body is not told to be sent as JSON)."""
    if isinstance(exc, TooManyFieldsSent):
        return (
            f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields or "
            "query parameters; send a long list as a JSON body."
        )
    if isinstance(exc, RequestDataTooBig):
        limit = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}"
        if content_type.startswith("application/json"):
            return (
                f"The request body is larger than {limit} bytes; split it into smaller requests "
                "(the largest cohort one request takes, 10,000 ids, is far smaller)."
            )
        return (
            f"The form body is larger than {limit} bytes; send it as JSON or in smaller requests."
        )
    return "The request was refused as malformed."


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """`handler404`: JSON under /api/ (a REST client gets a message it can read), else HTML."""
    if _is_api(request):
        return JsonResponse(
            {"detail": f"There is no API endpoint at {request.path}. See /api/docs/."}, status=404
        )
    return defaults.page_not_found(request, exception)


class ApiNotFoundMiddleware:
    """With DEBUG on, Django answers an unknown path with its HTML debug page instead of
    `handler404`; under /api/ a REST client gets the same JSON 404 as in production. Paths that
    reach a view (an unknown id: the view's own 404) pass through."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        unresolved = getattr(request, "resolver_match", None) is None
        if response.status_code == 404 and _is_api(request) and unresolved:
            return page_not_found(request, Http404())
        return response


DATABASE_UNAVAILABLE = (
    "The database is not answering right now; nothing was changed by this request. "
    "Try again in a minute."
)
# Seconds a client (Twilio included) is asked to wait before trying again.
DATABASE_RETRY_AFTER = 60


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: JSON under /api/, else HTML. A database that cannot be reached or stopped
    answering (connect or statement timeout) is not a bug: 503 with Retry-After, so clients and
    Twilio try again, and the request's transaction was rolled back."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        if _is_api(request) or request.path.startswith("/twilio/"):
            response: HttpResponse = JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503)
        else:
            response = HttpResponse(
                f"<!doctype html><title>Try again in a minute</title><p>{DATABASE_UNAVAILABLE}</p>",
                status=503,
            )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    if _is_api(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side; it has been logged. Try again later."},
            status=500,
        )
    return defaults.server_error(request)
