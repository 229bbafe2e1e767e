"""/api/v1/: the headless API, its OpenAPI schema and its interactive docs (served locally)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerView

from cms.api import views
from cms.api.docs import LocalRedocView, SchemaView
from cms.render_cache.views import DecideView
from experiments.api import HoldoutReportView

app_name = "api_v1"

urlpatterns = [
    path("pages/", views.PageListView.as_view(), name="pages"),
    path("pages/find/", views.PageFindView.as_view(), name="page-find"),
    path("pages/preview/", views.PagePreviewView.as_view(), name="page-preview"),
    path("pages/<int:pk>/", views.PageDetailView.as_view(), name="page"),
    path("preview-tokens/", views.PreviewTokenView.as_view(), name="preview-tokens"),
    path("experiments/", views.ExperimentListView.as_view(), name="experiments"),
    path(
        "experiments/<slug:key>/results/",
        views.ExperimentResultsView.as_view(),
        name="experiment-results",
    ),
    path("personalization/holdouts/", HoldoutReportView.as_view(), name="holdout-report"),
    path("auth-token/", views.AuthTokenView.as_view(), name="auth-token"),
    path("decide/", DecideView.as_view(), name="decide"),
    path("", include("personalization.api.urls")),
    path("", include("personalization.privacy.api.urls")),
    path("", include("personalization.events.api.urls")),
    path("", include("personalization.commerce.api.urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_v1:schema"), name="docs"),
    path("docs/redoc/", LocalRedocView.as_view(url_name="api_v1:schema"), name="redoc"),
]
