"""Shared pieces of the browser pages: permission decorators and pagination.

Anonymous visitors are sent to the login page; a logged-in user without the permission gets the
403 page with a sentence saying why (never a crash).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from config.api import is_administrator, is_staff_member

# HttpResponseBase, so streamed responses (the Message Report's CSV) are views too.
View = TypeVar("View", bound=Callable[..., HttpResponseBase])

PAGE_SIZE = 25


def _guard(check: Callable[[Any], bool], refusal: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


administrator_required = _guard(is_administrator, "Only administrators may open this page.")
staff_required = _guard(is_staff_member, "Only staff members may open this page.")


def paginate(request: HttpRequest, rows: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page[Any]:
    """The requested page of `rows`: a count query and a page query, whatever the size."""
    return Paginator(rows, per_page).get_page(request.GET.get("page"))
