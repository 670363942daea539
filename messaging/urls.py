"""Pages of messaging: the person page and its compose form."""

from __future__ import annotations

from django.urls import path

from messaging import views

urlpatterns = [
    path("people/<int:person_id>/", views.person_detail, name="person-detail"),
    path("people/<int:person_id>/send/", views.person_send, name="person-send"),
]
