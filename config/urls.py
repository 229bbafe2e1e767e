from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms.product_views import product_page
from cms.render_cache.views import hole_fragment
from config.rq_dashboard import rq_dashboard_urlpatterns
from personalization.views import declare_traits

urlpatterns = [
    path("django-admin/", admin.site.urls),
    path("admin/rq/", include((rq_dashboard_urlpatterns(), "django_rq"))),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("api/v1/", include("cms.api.urls")),
    path("_edge/hole/<str:ref>/", hole_fragment, name="edge_hole"),
    path("journeys/link/", include("personalization.journeys.urls")),
]

if settings.SERVE_MEDIA:
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns += [
        re_path(rf"^{media_prefix}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    ]

# What visitors read, in the language of its address: English (the default language) unprefixed,
# Japanese under /ja/ (LocaleMiddleware activates it; Wagtail serves the page's ja translation).
urlpatterns += i18n_patterns(
    path("account/", include("cms.members.urls")),
    path("personalization/traits/", declare_traits, name="personalization_traits"),
    path("personalization/", include("personalization.privacy.urls")),
    path("products/<path:sku>/", product_page, name="product-page"),
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)

# Errors under /api/v1/ are JSON; the site keeps its HTML pages.
handler400 = "personalization.api.errors.bad_request"
handler404 = "personalization.api.errors.not_found"
handler500 = "personalization.api.errors.server_error"
