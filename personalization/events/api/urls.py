"""The events endpoint under /api/v1/ (included by `cms.api.urls`)."""

from django.urls import path

from personalization.events.api import views

urlpatterns = [
    path("events/", views.EventsView.as_view(), name="events"),
]
