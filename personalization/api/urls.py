"""Visitor, event and segment endpoints, included under /api/v1/ by `cms.api.urls`."""

from django.urls import path

from personalization.api import views

urlpatterns = [
    path("visitors/", views.VisitorTokenView.as_view(), name="visitor-tokens"),
    path("visitor/", views.VisitorView.as_view(), name="visitor"),
    path("visitor/export/", views.VisitorExportView.as_view(), name="visitor-export"),
    path("consent/", views.ConsentView.as_view(), name="consent"),
    path("events/", views.EventsView.as_view(), name="events"),
    path("segments/", views.SegmentListView.as_view(), name="segments"),
]
