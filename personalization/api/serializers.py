"""Field types every endpoint uses, and what the core endpoints accept and return. Every
client-sent value is checked here, so bad input is a 400 naming the field, and nothing
unstorable (NUL, lone surrogates) reaches the database."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.translation import gettext
from rest_framework import serializers

from personalization.api.datetimes import api_datetime
from personalization.bounds import storable
from personalization.models import Segment, SegmentRule

MAX_PAGE_ID = 2**31 - 1


class StorableCharField(serializers.CharField):
    """A JSON string (a number is not silently turned into one) that any database can store."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not storable(value):
            raise serializers.ValidationError(gettext("Contains characters that cannot be stored."))
        return value


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: "5", 5.0 and true are refused rather than converted."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


# TIMESTAMPS
# ------------------------------------------------------------------------------


class SiteDateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField written by `api_datetime`: the site's offset, whichever time zone
    the request has active."""

    def to_representation(self, value):
        if not value:
            return None
        if isinstance(value, str):
            return api_datetime(datetime.datetime.fromisoformat(value))
        return api_datetime(value)


# VISITORS
# ------------------------------------------------------------------------------


class VisitorTokenSerializer(serializers.Serializer):
    """A freshly signed visitor token."""

    visitor_token = serializers.CharField(help_text="Send it as X-Visitor-Token on every call.")
    visitor = serializers.UUIDField(help_text="The visitor id the token names.")
    expires_at = SiteDateTimeField()


# SEGMENTS (STAFF)
# ------------------------------------------------------------------------------


class SegmentRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = SegmentRule
        fields = ["attribute", "operator", "value"]


class SegmentSerializer(serializers.ModelSerializer):
    """A segment as staff see it in the admin."""

    rules = SegmentRuleSerializer(many=True, read_only=True)
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: SiteDateTimeField,
    }

    class Meta:
        model = Segment
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "priority",
            "enabled",
            "match",
            "advanced",
            "condition",
            "rules",
            "size",
            "size_members",
            "size_computed_at",
            "updated_at",
        ]
        read_only_fields = fields
