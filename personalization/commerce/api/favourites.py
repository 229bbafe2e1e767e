"""The visitor's favourite products under /api/v1/favourites/.

Whose favourites: the caller's, named exactly as for events (`personalization.events.api`): a
member by their API token or site session, else the visitor of the `X-Visitor-Token` header or
of the site's visitor cookie; the shop's server (a staff token with `X-Visitor-Token`) acts for
the token's visitor. A write identified by the visitor cookie alone needs the CSRF token (as a
session's writes do). A visitor without a stored row yet gets one on their first favourite.

Favourites are kept whatever the visitor's consent says: like a cart, a favourite is something
the visitor explicitly asked the site to keep. The `favourite_added` / `favourite_removed`
events are recorded only with analytics consent, the segment attributes read them only with
personalization consent, and journeys write about them only with marketing consent.
"""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.authentication import CSRFCheck
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from personalization.api.authentication import server_speaks_for_visitor
from personalization.api.base import APIDefaultsMixin
from personalization.api.serializers import SiteDateTimeField, StorableCharField
from personalization.api.throttles import IPRateThrottle, VisitorRateThrottle
from personalization.commerce.api.serializers import ProductSerializer
from personalization.commerce.favourites import (
    MAX_FAVOURITES,
    FavouritesFull,
    favourite_add,
    favourite_remove,
    visitor_for_favourites,
)
from personalization.commerce.models import Favourite, Product
from personalization.middleware import writable_visitor
from personalization.models import Visitor

# IDENTITY
# ------------------------------------------------------------------------------


def _member(request):
    """The member the call speaks for, or None (anonymous, or the shop's server for a visitor)."""
    if server_speaks_for_visitor(request):
        return None
    return request.user if request.user.is_authenticated else None


def _stored_visitor(request) -> Visitor | None:
    """The caller's stored visitor, without creating one (None when it has none yet)."""
    django_request = request._request
    if server_speaks_for_visitor(request):
        visitor = Visitor.objects.filter(uuid=django_request.visitor_uuid).first()
        if visitor is not None and visitor.merged_into_id:
            visitor = Visitor.objects.filter(pk=visitor.merged_into_id).first()
        return visitor
    visitor = writable_visitor(django_request)
    return visitor if visitor.pk is not None else None


def _visitor_to_write(request) -> Visitor:
    """The caller's stored visitor, created (as the event job creates one) when it has none."""
    django_request = request._request
    member = _member(request)
    if not server_speaks_for_visitor(request):
        visitor = writable_visitor(django_request)  # a visitor id that is not theirs is replaced
        if visitor.pk is not None and visitor.user_id == (member.pk if member else None):
            return visitor
    return visitor_for_favourites(
        visitor_uuid=django_request.visitor_uuid,
        user=member,
        for_server=server_speaks_for_visitor(request),
    )


def _enforce_csrf_for_cookie(request) -> None:
    """A write that only the visitor cookie identifies needs the CSRF token, as a session's
    writes do (DRF checks those): another site must not add favourites in the visitor's name.
    Tokens (visitor or API) are not sent by browsers on their own, so they need none."""
    if request.method in SAFE_METHODS or request.successful_authenticator is not None:
        return
    if getattr(request._request, "visitor_from_token", False):
        return
    check = CSRFCheck(lambda _request: None)
    check.process_request(request._request)
    reason = check.process_view(request._request, None, (), {})
    if reason:
        raise PermissionDenied(gettext("CSRF failed: %(reason)s") % {"reason": reason})


# SERIALIZERS
# ------------------------------------------------------------------------------


class FavouriteRequestSerializer(serializers.Serializer):
    """What POST takes: the SKU of an active product, and nothing else."""

    sku = StorableCharField(max_length=64, help_text="The product's SKU.")

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {key: [gettext("Unknown field.")] for key in unknown}
                )
        return super().to_internal_value(data)

    def validate_sku(self, sku: str) -> Product:
        product = Product.objects.filter(sku=sku, active=True).first()
        if product is None:
            raise serializers.ValidationError(gettext("No product on sale has this SKU."))
        return product


class FavouriteSerializer(ProductSerializer):
    """A favourite: the product as the catalogue API shows it, whether it is still on sale,
    its price when the visitor added it, and when."""

    active = serializers.BooleanField(read_only=True)
    price_when_added = serializers.SerializerMethodField()
    added_at = serializers.SerializerMethodField()

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "active", "price_when_added", "added_at"]

    def get_price_when_added(self, product) -> int:
        return product.favourite.price_when_added

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_added_at(self, product) -> str:
        return SiteDateTimeField().to_representation(product.favourite.created_at)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class FavouritesSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    max = serializers.IntegerField(help_text="How many favourites a visitor may keep.")
    results = FavouriteSerializer(many=True)


def _favourite_body(favourite: Favourite) -> dict:
    product = favourite.product
    product.favourite = favourite
    return FavouriteSerializer(product).data


def _favourites(visitor: Visitor | None) -> list[Favourite]:
    if visitor is None:
        return []
    return list(
        Favourite.objects.filter(visitor=visitor)
        .select_related("product__image")
        .prefetch_related("product__image__renditions")
        .order_by("-created_at", "-pk")
    )


# VIEWS
# ------------------------------------------------------------------------------

SKU_PARAMETER = OpenApiParameter(
    "sku",
    {"type": "string", "minLength": 1, "maxLength": 64},
    OpenApiParameter.PATH,
    description="The product's SKU.",
)


class FavouritesView(APIDefaultsMixin, APIView):
    """The caller's favourites: list them, add one."""

    throttle_classes = [VisitorRateThrottle, IPRateThrottle]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _enforce_csrf_for_cookie(request)

    @extend_schema(
        summary="The visitor's favourite products, newest first",
        responses={200: FavouritesSerializer},
    )
    def get(self, request):
        favourites = _favourites(_stored_visitor(request))
        body = [_favourite_body(f) for f in favourites]
        return Response({"count": len(body), "max": MAX_FAVOURITES, "results": body})

    @extend_schema(
        summary="Add a product to the visitor's favourites",
        description='Body: `{"sku": "…"}`, the SKU of an active product. 201 with the '
        "favourite when it is new, 200 when it already was one (nothing changes). 400 names "
        "the field (`sku` missing, unknown or not on sale; any other field). 409 when the "
        f"visitor already keeps {MAX_FAVOURITES} favourites. Cookie-identified writes need the "
        "CSRF token.",
        request=FavouriteRequestSerializer,
        responses={
            200: FavouriteSerializer,
            201: FavouriteSerializer,
            409: OpenApiResponse(
                DetailSerializer, description="The visitor keeps the most favourites allowed."
            ),
        },
    )
    def post(self, request):
        data = FavouriteRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = data.validated_data["sku"]
        visitor = _visitor_to_write(request)
        try:
            result = favourite_add(visitor, product)
        except FavouritesFull:
            detail = gettext(
                "You keep %(max)d favourites already: remove one before adding another."
            ) % {"max": MAX_FAVOURITES}
            return Response({"detail": detail}, status=status.HTTP_409_CONFLICT)
        return Response(
            _favourite_body(result.favourite),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


@extend_schema(parameters=[SKU_PARAMETER])
class FavouriteView(APIDefaultsMixin, APIView):
    """One of the caller's favourites, by SKU: remove it."""

    throttle_classes = [VisitorRateThrottle, IPRateThrottle]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _enforce_csrf_for_cookie(request)

    @extend_schema(
        summary="Remove a product from the visitor's favourites",
        description="204 when removed; 404 when the product is not (or no longer) one of the "
        "visitor's favourites, which is the state the caller wanted.",
        responses={
            204: None,
            404: OpenApiResponse(DetailSerializer, description="Not a favourite."),
        },
    )
    def delete(self, request, sku: str):
        visitor = _stored_visitor(request)
        product = Product.objects.filter(sku=sku).first()
        if visitor is None or product is None or not favourite_remove(visitor, product):
            raise NotFound(gettext("This product is not among your favourites."))
        return Response(status=status.HTTP_204_NO_CONTENT)
