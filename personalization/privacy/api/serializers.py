"""What the visitor-data endpoints accept and return: declared traits, consent, and what the
site knows about the visitor."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework import serializers

from personalization.api.serializers import StorableCharField
from personalization.choices import PetType
from personalization.names import name_clean


class TraitsSerializer(serializers.Serializer):
    """What a visitor declares about themselves: name and pet type (either or both)."""

    name = StorableCharField(max_length=60, required=False)
    pet = serializers.ChoiceField(choices=PetType.choices, required=False)

    def validate_name(self, value: str) -> str:
        return name_clean(value)

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError({"name": [gettext("Send name, pet or both.")]})
        return attrs


class ConsentSerializer(serializers.Serializer):
    """What the visitor agreed to. Send any of the three purposes to change them; the others
    keep their value. Until a choice is stored the site's defaults apply (`recorded` false)."""

    analytics = serializers.BooleanField(
        required=False, help_text="Behaviour events beyond the strictly necessary ones."
    )
    personalization = serializers.BooleanField(
        required=False, help_text="Content chosen for the visitor's segments (else default)."
    )
    marketing = serializers.BooleanField(
        required=False, help_text="Journey emails, on-site messages and webhooks (opt-in)."
    )
    recorded = serializers.BooleanField(read_only=True)
    unsubscribed = serializers.BooleanField(
        read_only=True, help_text="True after the email's one-click unsubscribe."
    )

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            message = "Send an object with analytics, personalization or marketing."
            raise serializers.ValidationError({"non_field_errors": [message]})
        unknown = sorted(set(data) - {"analytics", "personalization", "marketing"})
        if unknown:
            raise serializers.ValidationError(
                {
                    name: [
                        gettext("Unknown consent purpose (analytics, personalization, marketing).")
                    ]
                    for name in unknown
                }
            )
        for name, value in data.items():
            if not isinstance(value, bool):
                raise serializers.ValidationError({name: [gettext("Must be true or false.")]})
        return super().to_internal_value(data)

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        gettext("Send analytics, personalization, marketing or several.")
                    ]
                }
            )
        return attrs


class RuleResultSerializer(serializers.Serializer):
    rule = serializers.CharField()
    matched = serializers.BooleanField()


class MatchedSegmentSerializer(serializers.Serializer):
    """A segment the visitor is in, and the rule that decided it ("why am I seeing this")."""

    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    priority = serializers.IntegerField()
    decided_by = serializers.CharField()
    rules = RuleResultSerializer(many=True)


class VisitorProfileSerializer(serializers.Serializer):
    """The behaviour summary segments read (rollups kept by the event jobs)."""

    is_member = serializers.BooleanField()
    is_new = serializers.BooleanField()
    visit_count = serializers.IntegerField()
    views = serializers.DictField(help_text="total, per section and per tag")
    cart = serializers.DictField(help_text="count, value, hours_since_update")
    purchases = serializers.DictField(help_text="count, total_spend, categories, ...")


class VisitorSerializer(serializers.Serializer):
    """The visitor as the personalization sees them."""

    visitor = serializers.UUIDField()
    personalized = serializers.BooleanField(
        help_text="False when the visitor withheld personalization consent (default content)."
    )
    traits = serializers.DictField(child=serializers.CharField())
    profile = VisitorProfileSerializer()
    segments = MatchedSegmentSerializer(many=True)
