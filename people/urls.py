"""People pages: start page, phone edit, Person Phone data view, prospect upload."""

from __future__ import annotations

from django.urls import path

from people import views

urlpatterns = [
    path("", views.home, name="home"),
    path("phones/<int:phone_id>/edit/", views.phone_edit, name="phone-edit"),
    path("data/person-phones/", views.phone_data, name="person-phone-data"),
    path("prospects/upload/", views.prospect_upload, name="prospect-upload"),
]
