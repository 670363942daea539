"""REST routes of messaging: routing explanation, messages (the Message Report), usage."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from messaging.api import views, views_send

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "people/<int:person_id>/sms-route/",
        views.PersonSmsRouteView.as_view(),
        name="person-sms-route",
    ),
    path("messages/", views_send.MessageListCreateView.as_view(), name="messages"),
    path("messages/bulk/", views_send.MessageBulkCreateView.as_view(), name="messages-bulk"),
    path("messages/<int:pk>/", views_send.MessageDetailView.as_view(), name="message-detail"),
    path("phone-usage/", views_send.PhoneUsageView.as_view(), name="phone-usage"),
    path(
        "phone-usage/<int:pk>/",
        views_send.PhoneUsageDetailView.as_view(),
        name="phone-usage-detail",
    ),
    path("sms-usage/", views_send.SmsUsageView.as_view(), name="sms-usage"),
    path("sender-numbers/", views_send.SenderNumberListView.as_view(), name="sender-numbers"),
    path(
        "sender-numbers/<int:pk>/",
        views_send.SenderNumberDetailView.as_view(),
        name="sender-number-detail",
    ),
]
