"""Pages of the SMS Configuration (administrators)."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from sms_admin import views

urlpatterns = [
    path(
        "",
        RedirectView.as_view(pattern_name="sms-config-general"),
        name="sms-config",
    ),
    path("general/", views.general, name="sms-config-general"),
    path("email/", views.email, name="sms-config-email"),
    path("twilio/", views.twilio, name="sms-config-twilio"),
    path("twilio/senders/", views.sender_add, name="sms-sender-add"),
    path(
        "twilio/assignments/<int:pk>/delete/",
        views.assignment_delete,
        name="sms-assignment-delete",
    ),
    path("history/", views.history, name="sms-config-history"),
]
