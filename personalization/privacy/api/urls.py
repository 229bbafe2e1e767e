"""The visitor's data rights under /api/v1/ (included by `cms.api.urls`)."""

from django.urls import path

from personalization.privacy.api import views

urlpatterns = [
    path("visitor/", views.VisitorView.as_view(), name="visitor"),
    path("visitor/export/", views.VisitorExportView.as_view(), name="visitor-export"),
    path("consent/", views.ConsentView.as_view(), name="consent"),
]
