"""Twilio webhooks: `/twilio/sms/inbound/` and `/twilio/sms/status/`."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from twilio_bridge import views

app_name = "twilio"

urlpatterns: list[URLPattern | URLResolver] = [
    path("sms/inbound/", views.sms_inbound, name="sms-inbound"),
    path("sms/status/", views.sms_status, name="sms-status"),
]
