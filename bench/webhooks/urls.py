"""The product's URLs plus the reference view, for the benchmark only (never in config.urls)."""

from __future__ import annotations

from django.urls import path

from bench.webhooks import reference
from config.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    *product_urlpatterns,
    path("bench/reference/status/", reference.status_reference, name="bench-reference"),
]
