"""What the product feed accepts and what the product endpoints return. Each item of a feed
call is checked on its own, so a 400 names every bad item by its index and field."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework import serializers

from personalization.api.serializers import (
    SiteDateTimeField,
    StorableCharField,
    StrictIntegerField,
)
from personalization.commerce.models import Product, ProductPet

MAX_ITEMS = 1_000
MAX_PRICE = 2**31 - 1


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false: "yes" and 1 are refused rather than converted."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ProductItemSerializer(serializers.Serializer):
    """One product of a feed call. `sku`, `name`, `price` and `stock` are required; a field left
    out keeps its value (or its default, for a new product)."""

    sku = StorableCharField(max_length=64, help_text="The shop's SKU: the product's key.")
    name = StorableCharField(max_length=255)
    category = serializers.SlugField(
        max_length=64, required=False, allow_blank=True, help_text="A slug, e.g. dog-food."
    )
    pet_type = serializers.ChoiceField(choices=ProductPet.choices, required=False)
    price = StrictIntegerField(min_value=0, max_value=MAX_PRICE, help_text="Whole yen.")
    stock = StrictIntegerField(min_value=0, max_value=MAX_PRICE)
    url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    active = StrictBooleanField(required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {key: [gettext("Unknown field.")] for key in unknown}
                )
        return super().to_internal_value(data)


_ITEM = ProductItemSerializer()


def product_item_check(raw) -> tuple[dict, dict]:
    """What a valid product is, for the feed API and the CSV import alike: (the validated item,
    {}) or ({}, {field: [messages]}). One serializer checks every item (it keeps no state)."""
    try:
        return dict(_ITEM.run_validation(raw)), {}
    except serializers.ValidationError as exc:
        return {}, serializers.as_serializer_error(exc)


class FeedRejected(Exception):
    """A feed call refused as a whole: `detail` says why, `errors` lists each problem."""

    def __init__(self, detail: str, errors: list[dict]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


def _rows(index: int | None, errors: dict) -> list[dict]:
    """[{index, field, message}] from a serializer's errors."""
    return [
        {"index": index, "field": field, "message": str(message)}
        for field, messages in errors.items()
        for message in (messages if isinstance(messages, list) else [messages])
    ]


def feed_items(data) -> list[dict]:
    """The validated items of a feed call. FeedRejected listing every bad item (each problem
    with its index and field) if any is bad, or if the body is not a list of 1 to MAX_ITEMS."""
    whole = None
    if not isinstance(data, list):
        whole = gettext("Send a JSON list of products.")
    elif not data:
        whole = gettext("Send at least one product.")
    elif len(data) > MAX_ITEMS:
        whole = gettext("Send at most %(max)d products per call (this call has %(count)d).") % {
            "max": MAX_ITEMS,
            "count": len(data),
        }
    if whole is not None:
        raise FeedRejected(whole, [{"index": None, "field": "products", "message": whole}])
    items, errors, seen = [], [], {}
    for index, raw in enumerate(data):
        item, problems = product_item_check(raw)
        if problems:
            errors += _rows(index, problems)
            continue
        sku = item["sku"]
        if sku in seen:
            message = gettext("This SKU is already item %(index)d of this call.")
            errors += _rows(index, {"sku": [message % {"index": seen[sku]}]})
            continue
        seen[sku] = index
        items.append(item)
    if errors:
        detail = gettext("Product %(index)d is invalid; nothing was stored.")
        raise FeedRejected(detail % {"index": errors[0]["index"]}, errors)
    return items


class UpsertCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class FeedErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(
        allow_null=True, help_text="The item's position in the list, from 0; null for the body."
    )
    field = serializers.CharField()
    message = serializers.CharField()


class FeedRejectedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = FeedErrorSerializer(many=True)


class ProductSerializer(serializers.ModelSerializer):
    """A product as the site shows it (prices in whole yen)."""

    image = serializers.SerializerMethodField()
    updated_at = SiteDateTimeField(read_only=True)

    class Meta:
        model = Product
        fields = [
            "sku", "name", "category", "pet_type", "price", "stock", "image", "url", "updated_at",
        ]  # fmt: skip

    def get_image(self, product) -> str | None:
        """The product image's URL (a 400×400 rendition), or null."""
        if product.image is None:
            return None
        return product.image.get_rendition("fill-400x400").url


class ProductListQuerySerializer(serializers.Serializer):
    category = serializers.SlugField(max_length=64, required=False)
    pet_type = serializers.ChoiceField(choices=ProductPet.choices, required=False)
