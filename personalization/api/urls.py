"""Visitor-token and segment endpoints of the core, included under /api/v1/ by `cms.api.urls`."""

from django.urls import path

from personalization.api import views

urlpatterns = [
    path("visitors/", views.VisitorTokenView.as_view(), name="visitor-tokens"),
    path("segments/", views.SegmentListView.as_view(), name="segments"),
]
