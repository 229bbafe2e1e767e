"""The product catalogue under /api/v1/products/: the shop's server feeds it (a staff API
token, as for purchase events); anyone reads the active products."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ParseError
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAdminUser
from rest_framework.response import Response

from personalization.api.base import APIDefaultsMixin
from personalization.api.pagination import ListingPagination
from personalization.commerce.api.serializers import (
    MAX_ITEMS,
    FeedRejected,
    FeedRejectedSerializer,
    ProductItemSerializer,
    ProductListQuerySerializer,
    ProductSerializer,
    UpsertCountsSerializer,
    feed_items,
)
from personalization.commerce.models import Product
from personalization.commerce.services import products_upsert


def _active_products():
    return Product.objects.filter(active=True).select_related("image").order_by("sku")


class ProductListView(APIDefaultsMixin, generics.ListAPIView):
    """The active products (by SKU); the shop's server upserts them by SKU."""

    def get_permissions(self):
        """Reading is open to anyone; feeding the catalogue only to staff (the shop's server)."""
        return [AllowAny()] if self.request.method in SAFE_METHODS else [IsAdminUser()]

    serializer_class = ProductSerializer
    pagination_class = ListingPagination

    def get_queryset(self):
        query = ProductListQuerySerializer(data=self.request.query_params.dict())
        query.is_valid(raise_exception=True)
        products = _active_products()
        if "category" in query.validated_data:
            products = products.filter(category=query.validated_data["category"])
        if "pet_type" in query.validated_data:
            products = products.filter(pet_type=query.validated_data["pet_type"])
        return products

    @extend_schema(
        parameters=[ProductListQuerySerializer],
        summary="List the active products",
        responses={
            200: ProductSerializer(many=True),
            400: OpenApiResponse(description="Bad filter."),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ProductItemSerializer(many=True),
        responses={
            200: UpsertCountsSerializer,
            201: UpsertCountsSerializer,
            400: FeedRejectedSerializer,
        },
        summary=f"Create or update up to {MAX_ITEMS:,} products by SKU (staff)",
        description=f"The shop's feed (a staff API token): a JSON list of 1 to {MAX_ITEMS:,} "
        "products, each created or updated by its SKU. All-or-nothing: if any item is invalid "
        "(an unknown field, a negative price or stock, a missing SKU, a SKU twice in the call), "
        "nothing is stored and every problem is listed with its index and field. Sending the "
        "same list again changes nothing. A field an item leaves out keeps its value. 201 when "
        "a product was created, else 200; both with the counts.",
    )
    def post(self, request):
        try:
            items = feed_items(request.data)
        except ParseError as exc:
            message = str(exc.detail)
            return _rejected(
                FeedRejected(message, [{"index": None, "field": "products", "message": message}])
            )
        except FeedRejected as exc:
            return _rejected(exc)
        counts = products_upsert(items)
        body = UpsertCountsSerializer(counts).data
        return Response(
            body, status=status.HTTP_201_CREATED if counts.created else status.HTTP_200_OK
        )


def _rejected(exc: FeedRejected) -> Response:
    return Response(
        {"detail": exc.detail, "errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST
    )


@extend_schema(
    summary="One active product, by SKU",
    parameters=[
        OpenApiParameter(
            "sku",
            {"type": "string", "minLength": 1, "maxLength": 64},
            OpenApiParameter.PATH,
            description="The product's SKU.",
        )
    ],
)
class ProductDetailView(APIDefaultsMixin, generics.RetrieveAPIView):
    """An active product by its SKU (404 if unknown or inactive)."""

    serializer_class = ProductSerializer

    def get_object(self):
        return get_object_or_404(_active_products(), sku=self.kwargs["sku"])
