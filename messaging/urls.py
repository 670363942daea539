"""Pages of messaging: the person page and its compose form; the Message Report."""

from __future__ import annotations

from django.urls import path

from messaging import views, views_templates

urlpatterns = [
    path("people/<int:person_id>/", views.person_detail, name="person-detail"),
    path("people/<int:person_id>/send/", views.person_send, name="person-send"),
    path("messages/report/", views.message_report, name="message-report"),
    path("messages/report/csv/", views.message_report_csv, name="message-report-csv"),
    path("messages/templates/", views_templates.template_list, name="message-templates"),
    path(
        "messages/templates/<int:template_id>/",
        views_templates.template_edit,
        name="message-template-edit",
    ),
    path(
        "messages/templates/<int:template_id>/delete/",
        views_templates.template_delete,
        name="message-template-delete",
    ),
]
