"""URL map: the REST API under /api/v1/, webhooks under /twilio/, pages, the admin."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health

# Each app owns its API routes, in <app>/api/urls.py.
api_v1 = [
    path("", include("people.api.urls")),
    path("", include("sms_admin.api.urls")),
    path("", include("messaging.api.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include(api_v1)),
    path("twilio/", include("twilio_bridge.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Browser pages: the start page (people search) is "/".
    path("sms-configuration/", include("sms_admin.urls")),
    path("", include("messaging.urls")),
    path("", include("people.urls")),
]

handler404 = "config.api.page_not_found"
handler500 = "config.api.server_error"
