"""REST routes of people: roles, phone types, people, the SIS import and phones."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import DefaultRouter

from people.api import views

router = DefaultRouter()
router.register("roles", views.RoleViewSet, basename="role")
router.register("phone-types", views.PhoneTypeViewSet, basename="phone-type")
router.register("people", views.PersonViewSet, basename="person")

urlpatterns: list[URLPattern | URLResolver] = [
    # Before the router, whose people/<pk>/ would otherwise take "import" for a pk.
    path("people/import/", views.PersonImportView.as_view(), name="people-import"),
    path(
        "people/<int:person_id>/phones/",
        views.PersonPhoneListView.as_view(),
        name="person-phones",
    ),
    path("phones/<int:pk>/", views.PhoneDetailView.as_view(), name="phone-detail"),
    *router.urls,
]
