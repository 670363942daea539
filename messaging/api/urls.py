"""REST routes of messaging: routing explanation, messages (send and the Message Report),
message templates; conversations (the inbox)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from messaging.api import views, views_analytics, views_conversations, views_send, views_templates

router = SimpleRouter()
router.register("templates", views_templates.MessageTemplateViewSet, basename="template")

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "people/<int:person_id>/sms-route/",
        views.PersonSmsRouteView.as_view(),
        name="person-sms-route",
    ),
    path("messages/", views_send.MessageListCreateView.as_view(), name="messages"),
    path("messages/bulk/", views_send.MessageBulkCreateView.as_view(), name="messages-bulk"),
    path("messages/<int:pk>/", views_send.MessageDetailView.as_view(), name="message-detail"),
    path(
        "analytics/messages/",
        views_analytics.AnalyticsMessagesView.as_view(),
        name="analytics-messages",
    ),
    *router.urls,
    path(
        "conversations/",
        views_conversations.ConversationListView.as_view(),
        name="conversations",
    ),
    path(
        "conversations/<int:person_id>/messages/",
        views_conversations.ConversationMessagesView.as_view(),
        name="conversation-messages",
    ),
    path(
        "conversations/<int:person_id>/read/",
        views_conversations.ConversationReadView.as_view(),
        name="conversation-read",
    ),
]
