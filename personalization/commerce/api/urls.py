"""The product catalogue under /api/v1/ (included by `cms.api.urls`)."""

from django.urls import path

from personalization.commerce.api import favourites, views

urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="products"),
    path("products/<path:sku>/", views.ProductDetailView.as_view(), name="product"),
    path("favourites/", favourites.FavouritesView.as_view(), name="favourites"),
    path("favourites/<path:sku>/", favourites.FavouriteView.as_view(), name="favourite"),
]
