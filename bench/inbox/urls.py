"""The product's URLs plus the reference, for the benchmark only (never in config.urls): a bare
Django view answering 204 through the same middleware, no query."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as product_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=204)


urlpatterns = [*product_urlpatterns, path("bench/bare/", bare, name="bench-bare")]
