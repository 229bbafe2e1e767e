"""Staff API for personalization holdouts: the figures of the report "Is personalization
working?" (`experiments.holdout_report`), as JSON. Rates, lifts and intervals are fractions
(0.1 = 10 %)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from experiments.holdout_report import holdout_report
from experiments.models import Correction
from personalization.api.base import APIDefaultsMixin


class HoldoutReportQuerySerializer(serializers.Serializer):
    correction = serializers.ChoiceField(
        choices=Correction.choices,
        default=Correction.HOLM,
        help_text="How the p-values of every holdout × goal are adjusted together.",
    )


class HoldoutReportView(APIDefaultsMixin, APIView):
    """Per holdout (per segment, or the global one): exposures per arm, the lift of the
    personalized over the default content on each goal with its sequential interval, raw and
    adjusted p-values, and a verdict (staff only)."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        parameters=[HoldoutReportQuerySerializer],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The holdout report."),
            400: OpenApiResponse(description="Unknown correction."),
        },
        summary="Is personalization working? (staff)",
    )
    def get(self, request):
        query = HoldoutReportQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        return Response(holdout_report(correction=query.validated_data["correction"]))
