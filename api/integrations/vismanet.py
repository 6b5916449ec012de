"""Visma.net ERP subaccount segments of a connection, under
/api/v1/tenants/{tenant_id}/connections/{connection_id}/segments: the segments and values
Visma.net has, the picked segments and each business unit's and cost centre's match (a
match to a value Visma.net no longer has is ``broken``); PUT changes them, like the page.
The rules are in integrations.vismanet.segments."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import api_error
from api.integrations.views import CONNECTION_PARAMETER, ConnectionMixin
from api.schema import TENANT_PARAMETER, errors
from integrations.errors import IntegrationError
from integrations.models import Connection
from integrations.vismanet.connector import client_for
from integrations.vismanet.segments import (
    dimension_segments,
    segment_overview,
    segment_settings,
    segment_settings_save,
)


class SegmentsUpdateSerializer(serializers.Serializer):
    department_segment = serializers.IntegerField(allow_null=True)
    cost_centre_segment = serializers.IntegerField(allow_null=True)
    business_units = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False
    )
    cost_centres = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False
    )

    def validate_business_units(self, value: dict) -> dict[int, str]:
        return _ids(value)

    def validate_cost_centres(self, value: dict) -> dict[int, str]:
        return _ids(value)


def _ids(value: dict) -> dict[int, str]:
    if not all(str(key).isdigit() for key in value):
        raise serializers.ValidationError("Keys are business unit or cost centre ids.")
    return {int(key): text for key, text in value.items()}


@extend_schema(parameters=[TENANT_PARAMETER, CONNECTION_PARAMETER])
class SegmentsView(ConnectionMixin, APIView):
    def _connection(self) -> Connection:
        return get_object_or_404(
            Connection.objects.select_related("tenant"),
            pk=self.kwargs["connection_id"],
            system="visma_net",
        )

    def _answer(self, connection: Connection) -> Response:
        try:
            segments = dimension_segments(client_for(connection).subaccount_dimension())
        except IntegrationError as error:
            return api_error(502, "remote_error", f"Visma.net ERP refused: {error}")
        settings = segment_settings(connection)
        overview = segment_overview(connection, segments)

        def rows(kind: str) -> list[dict]:
            return [
                {"id": row.local_id, "label": row.label, "value": row.value, "broken": row.broken}
                for row in overview[kind]
            ]

        return Response(
            {
                "department_segment": settings.department_segment,
                "cost_centre_segment": settings.cost_centre_segment,
                "segments": [
                    {
                        "segment_id": segment.segment_id,
                        "description": segment.description,
                        "values": [
                            {
                                "value_id": v.value_id,
                                "description": v.description,
                                "active": v.active,
                            }
                            for v in segment.values.values()
                        ],
                    }
                    for segment in sorted(segments.values(), key=lambda s: s.segment_id)
                ],
                "business_units": rows("business_unit"),
                "cost_centres": rows("cost_centre"),
            }
        )

    @extend_schema(
        responses={200: None, **errors(401, 403, 404, 502)}, summary="Subaccount segments"
    )
    def get(self, request, tenant_id, connection_id):
        return self._answer(self._connection())

    @extend_schema(
        request=SegmentsUpdateSerializer,
        responses={200: None, **errors(400, 401, 403, 404, 415, 502)},
        summary="Pick the segments and match values; 400 with a message per field saves nothing",
    )
    def put(self, request, tenant_id, connection_id):
        connection = self._connection()
        form = SegmentsUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            segments = dimension_segments(client_for(connection).subaccount_dimension())
        except IntegrationError as error:
            return api_error(502, "remote_error", f"Visma.net ERP refused: {error}")
        segment_settings_save(
            connection,
            segments=segments,
            department_segment=form.validated_data["department_segment"],
            cost_centre_segment=form.validated_data["cost_centre_segment"],
            business_units=form.validated_data.get("business_units", {}),
            cost_centres=form.validated_data.get("cost_centres", {}),
            by_user=request.user,
        )
        return self._answer(connection)
