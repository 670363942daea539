"""REST routes of messaging (routing explanation, messages, usage)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from messaging.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "people/<int:person_id>/sms-route/",
        views.PersonSmsRouteView.as_view(),
        name="person-sms-route",
    ),
]
