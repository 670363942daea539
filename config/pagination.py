"""Page-number pagination whose bad `page` is a 400 naming it.

DRF answers 404 "Invalid page." for `page=abc`, `page=0` or a page past the last, which reads as
"no such endpoint"; here each is a 400 with a message under `page`. The schema says `page` is an
integer from 1. `page=last` is not taken (the schema's integer is the whole contract).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from rest_framework import exceptions, pagination
from rest_framework.request import Request
from rest_framework.views import APIView

# More digits than any page count; int() of a longer text is refused or slow anyway.
_MAX_DIGITS = 18


class PageNumberPagination(pagination.PageNumberPagination):
    last_page_strings = ()

    def _refuse(self, message: str) -> exceptions.ValidationError:
        return exceptions.ValidationError({self.page_query_param: [message]})

    def get_page_number(self, request: Request, paginator: Paginator[Any]) -> int:
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        number = raw.lstrip("0") if raw.isascii() and raw.isdigit() else ""
        if not number:
            raise self._refuse(f"'{raw[:40]}' is not a page number: use a whole number from 1.")
        if len(number) > _MAX_DIGITS or int(number) > paginator.num_pages:
            raise self._refuse(
                f"There is no page {number[:40]}: the last page is {paginator.num_pages}."
            )
        return int(number)

    def paginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        paginator = self.django_paginator_class(queryset, page_size)
        # Checked against num_pages above, so page() cannot raise InvalidPage.
        self.page = paginator.page(self.get_page_number(request, paginator))
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters
