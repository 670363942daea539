"""REST routes of sms_admin: the configuration, phone and SMS usage, the sender-number pool."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sms_admin.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sms-configuration/", views.SmsConfigurationView.as_view(), name="sms-configuration"),
    path("phone-usage/", views.PhoneUsageView.as_view(), name="phone-usage"),
    path(
        "phone-usage/<int:pk>/",
        views.PhoneUsageDetailView.as_view(),
        name="phone-usage-detail",
    ),
    path("sms-usage/", views.SmsUsageView.as_view(), name="sms-usage"),
    path("sender-numbers/", views.SenderNumberListView.as_view(), name="sender-numbers"),
    path(
        "sender-numbers/<int:pk>/",
        views.SenderNumberDetailView.as_view(),
        name="sender-number-detail",
    ),
]
