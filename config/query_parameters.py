"""Query parameters the OpenAPI schema does not declare are refused (400), naming them.

A REST view reads the parameters it knows and would silently ignore the rest, so a typo
(`messages/?date_from=...`) answered with every message. The schema is the list of what each
operation takes: `extend_schema(parameters=...)`, the paginator's `page` and filter backends'
parameters, all as drf-spectacular publishes them at /api/schema/. A new endpoint declares its
parameters there and is checked without more code.

Per operation, and before the view runs, a query string is refused with 400 and one message per
parameter when it names a parameter the operation does not declare, gives a declared one an
empty value (`?channel=`: leave the parameter out instead), or repeats one that takes a single
value. DRF's `format` override is always allowed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import ComponentRegistry
from drf_spectacular.settings import spectacular_settings
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from config.api import suspicious_request_message


@dataclass(frozen=True)
class Declared:
    """The query parameters one operation declares: name -> whether it takes several values."""

    parameters: Mapping[str, bool]


_cache: dict[tuple[Callable[..., Any], str], Declared | None] = {}
_lock = threading.Lock()


def _operation_parameters(callback: Callable[..., Any], method: str) -> Declared | None:
    """What drf-spectacular publishes for this view and method; None when it publishes no
    operation (excluded from the schema, e.g. the schema view itself)."""
    generator = SchemaGenerator()  # type: ignore[no-untyped-call]
    view = generator.create_view(callback, method)  # type: ignore[no-untyped-call]
    # The path only shapes the operation id and path parameters, never query parameters.
    path = "/"
    view.request = spectacular_settings.GET_MOCK_REQUEST(method, path, view, None)
    operation = view.schema.get_operation(path, "", "^/", method, ComponentRegistry())
    if operation is None:
        return None
    return Declared(
        {
            parameter["name"]: parameter.get("schema", {}).get("type") == "array"
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "query"
        }
    )


def declared_query_parameters(callback: Callable[..., Any], method: str) -> Declared | None:
    """The query parameters of the operation `callback` (a URL pattern's view) serves for
    `method`, computed once per process."""
    key = (callback, method)
    if key not in _cache:
        with _lock:
            if key not in _cache:
                _cache[key] = _operation_parameters(callback, method)
    return _cache[key]


def query_parameter_errors(query: Any, declared: Declared) -> dict[str, list[str]]:
    """One message per parameter of `query` (a QueryDict) that `declared` does not allow."""
    errors: dict[str, list[str]] = {}
    always = {api_settings.URL_FORMAT_OVERRIDE}
    for name in query:
        values = query.getlist(name)
        if name in always:
            continue
        if name not in declared.parameters:
            known = sorted(declared.parameters)
            errors[name] = [
                f"Unknown query parameter. Known: {', '.join(known)}."
                if known
                else "Unknown query parameter: this operation takes none."
            ]
        elif any(value == "" for value in values):
            errors[name] = ["Give a value, or leave the parameter out."]
        elif len(values) > 1 and not declared.parameters[name]:
            errors[name] = [f"Give one value (it came {len(values)} times)."]
    return errors


def _handles(view_func: Any, view_class: type[APIView], method: str) -> bool:
    if method == "OPTIONS" or method.lower() not in view_class.http_method_names:
        return False
    actions = getattr(view_func, "actions", None)  # a viewset's method -> action map
    if actions is not None:
        return method.lower() in actions
    return hasattr(view_class, method.lower())


class QueryParameterMiddleware:
    """Refuses, with 400, API query strings the operation's schema does not declare."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        view_class = getattr(view_func, "cls", None)
        if not (isinstance(view_class, type) and issubclass(view_class, APIView)):
            return None
        try:
            query = request.GET
        except SuspiciousOperation as exc:  # more parameters than Django reads
            return JsonResponse({"detail": suspicious_request_message(exc)}, status=400)
        if not query:
            return None
        method = "GET" if request.method == "HEAD" else (request.method or "GET")
        if not _handles(view_func, view_class, method):
            return None  # OPTIONS, or a method the view answers with 405
        declared = declared_query_parameters(view_func, method)
        if declared is None:
            return None
        errors = query_parameter_errors(query, declared)
        return JsonResponse(errors, status=400) if errors else None
