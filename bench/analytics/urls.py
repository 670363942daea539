"""The product's URLs plus the bare reference view, for the benchmark only (not in config.urls)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.pages import administrator_required
from config.urls import urlpatterns as product_urlpatterns


@administrator_required
def bare(request: HttpRequest) -> HttpResponse:
    """The reference: the same middleware, session and administrator check, no work."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [*product_urlpatterns, path("bench/bare/", bare, name="bench-bare")]
