"""Pages of messaging: the person page and its compose form; the cohort page and its progress;
the Message Report; message templates; the question before a number assignment is deleted;
analytics and the opt-out and reclaim reports; the inbox."""

from __future__ import annotations

from django.urls import path

from messaging import views, views_cohort, views_inbox, views_insight, views_templates

urlpatterns = [
    path("people/<int:person_id>/", views.person_detail, name="person-detail"),
    path("people/<int:person_id>/send/", views.person_send, name="person-send"),
    path(
        "people/<int:person_id>/messages/<int:message_id>/cancel/",
        views.message_cancel,
        name="person-message-cancel",
    ),
    path("messages/cohort/", views_cohort.cohort_compose, name="cohort-compose"),
    path("messages/cohorts/<int:cohort_id>/", views_cohort.cohort_progress, name="cohort-progress"),
    path(
        "messages/cohorts/<int:cohort_id>/cancel/",
        views_cohort.cohort_cancel,
        name="cohort-cancel",
    ),
    path(
        "messages/cohorts/<int:cohort_id>/progress/",
        views_cohort.cohort_progress_json,
        name="cohort-progress-json",
    ),
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
    # A page of the SMS Configuration's Twilio tab that needs the messages (Q2); the deletion
    # itself is sms_admin's `sms-assignment-delete`.
    path(
        "sms-configuration/twilio/assignments/<int:pk>/delete/confirm/",
        views.assignment_delete_confirm,
        name="sms-assignment-delete-confirm",
    ),
    path("analytics/", views_insight.analytics_page, name="insight-analytics"),
    path("analytics/csv/", views_insight.analytics_csv, name="insight-analytics-csv"),
    path("analytics/opt-outs/", views_insight.opt_outs_page, name="insight-opt-outs"),
    path("analytics/opt-outs/csv/", views_insight.opt_outs_csv, name="insight-opt-outs-csv"),
    path("analytics/reclaim/", views_insight.reclaim_page, name="insight-reclaim"),
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
