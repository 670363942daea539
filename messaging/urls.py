"""Pages of messaging: the person page and its compose form; the Message Report; the inbox."""

from __future__ import annotations

from django.urls import path

from messaging import views, views_inbox

urlpatterns = [
    path("people/<int:person_id>/", views.person_detail, name="person-detail"),
    path("people/<int:person_id>/send/", views.person_send, name="person-send"),
    path("messages/report/", views.message_report, name="message-report"),
    path("messages/report/csv/", views.message_report_csv, name="message-report-csv"),
    path("inbox/", views_inbox.inbox_own, name="inbox"),
    path("inbox/changes/", views_inbox.inbox_changes, name="inbox-changes"),
    path("inbox/shared/", views_inbox.inbox_shared, name="inbox-shared"),
    path(
        "inbox/shared/<int:person_id>/",
        views_inbox.conversation_shared,
        name="inbox-shared-conversation",
    ),
    path("inbox/staff/", views_inbox.inbox_choose, name="inbox-choose"),
    path("inbox/staff/<int:staff_id>/", views_inbox.inbox_staff, name="inbox-staff"),
    path(
        "inbox/staff/<int:staff_id>/<int:person_id>/",
        views_inbox.conversation_staff,
        name="inbox-staff-conversation",
    ),
]
