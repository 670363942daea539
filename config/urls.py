"""URL map: the REST API under /api/v1/, webhooks under /twilio/, pages, the admin."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from config import health
from people.api import views as people_api
from sms_admin.api import views as sms_admin_api

router = DefaultRouter()
router.register("roles", people_api.RoleViewSet, basename="role")
router.register("phone-types", people_api.PhoneTypeViewSet, basename="phone-type")
router.register("people", people_api.PersonViewSet, basename="person")

api_v1 = [
    path(
        "sms-configuration/", sms_admin_api.SmsConfigurationView.as_view(), name="sms-configuration"
    ),
    path("people/import/", people_api.PersonImportView.as_view(), name="people-import"),
    path(
        "people/<int:person_id>/phones/",
        people_api.PersonPhoneListView.as_view(),
        name="person-phones",
    ),
    path("phones/<int:pk>/", people_api.PhoneDetailView.as_view(), name="phone-detail"),
    *router.urls,
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
