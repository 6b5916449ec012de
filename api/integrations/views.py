"""ERP connections under /api/v1/tenants/{tenant_id}/connections: settings, service-account
authorisation, sync runs and their transfer log; for the tenant's admins, its partners and
operators, like the Integrations page.

A Visma.net ERP connection's ``segments``: the subaccount segments and values Visma.net has,
the picked segments and each business unit's and cost centre's match (a match to a value
Visma.net no longer has is ``broken``); PUT changes them, like the page. The rules are in
integrations.vismanet.segments.

The ``agent`` of a connection (Visma Global): its state, and its key (issued or rotated:
shown once in the answer; revoked)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.tenancy import MANAGING_ROLES, TenantScopedAPIMixin
from api.errors import api_error
from api.idempotency import idempotent
from api.integrations.serializers import (
    AgentKeySerializer,
    AgentStatusSerializer,
    ClientCredentialsSerializer,
    ConnectionCreateSerializer,
    ConnectionSerializer,
    ConnectionUpdateSerializer,
    SegmentsUpdateSerializer,
    SyncRunSerializer,
    TransferQuerySerializer,
    TransferSerializer,
)
from api.schema import IDEMPOTENCY_PARAMETER, TENANT_ERRORS, TENANT_PARAMETER, errors
from integrations.agent_status import agent_status
from integrations.agents import agent_key_issue, agent_key_revoke
from integrations.connections import (
    PAUSED_BY_COMPANY,
    connection_create,
    connection_pause,
    connection_resume,
    connection_settings_update,
)
from integrations.connectors import UnknownSystem, connector_for
from integrations.errors import IntegrationError
from integrations.models import Connection, ConnectionStatus, SyncRun, SyncTrigger
from integrations.oauth import client_credentials_authorize
from integrations.runs import RunInProgress, sync_run_start
from integrations.vismanet.connector import client_for
from integrations.vismanet.segments import (
    dimension_segments,
    segment_overview,
    segment_settings,
    segment_settings_save,
)

CONNECTION_PARAMETER = OpenApiParameter("connection_id", int, OpenApiParameter.PATH)
SYNCRUN_PARAMETER = OpenApiParameter("syncrun_id", int, OpenApiParameter.PATH)


class ConnectionMixin(TenantScopedAPIMixin):
    tenant_roles = MANAGING_ROLES

    def connection(self) -> Connection:
        return get_object_or_404(
            Connection.objects.select_related("tenant"), pk=self.kwargs["connection_id"]
        )


@extend_schema(parameters=[TENANT_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        responses={200: ConnectionSerializer(many=True), **TENANT_ERRORS},
        summary="The tenant's connections to accounting systems",
    )
)
class ConnectionListView(ConnectionMixin, generics.ListAPIView):
    serializer_class = ConnectionSerializer

    def get_queryset(self):
        return Connection.objects.order_by("system")

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ConnectionCreateSerializer,
        responses={201: ConnectionSerializer, **errors(400, 401, 403, 404, 409, 415, 422)},
        summary="Set up a connection (not connected yet); its interface must be active",
    )
    @idempotent()
    def post(self, request, tenant_id):
        form = ConnectionCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        connection = connection_create(
            tenant=self.tenant,
            system=form.validated_data["system"],
            values=form.validated_data.get("settings", {}),
            actor=request.user,
        )
        return Response(ConnectionSerializer(connection).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[TENANT_PARAMETER, CONNECTION_PARAMETER])
class ConnectionDetailView(ConnectionMixin, APIView):
    @extend_schema(responses={200: ConnectionSerializer, **TENANT_ERRORS}, summary="A connection")
    def get(self, request, tenant_id, connection_id):
        return Response(ConnectionSerializer(self.connection()).data)

    @extend_schema(
        request=ConnectionUpdateSerializer,
        responses={200: ConnectionSerializer, **errors(400, 401, 403, 404, 415)},
        summary="Change some settings, pause or resume; 400 with a message per field saves nothing",
    )
    def patch(self, request, tenant_id, connection_id):
        connection = self.connection()
        form = ConnectionUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        if "settings" in form.validated_data:
            connection = connection_settings_update(
                connection=connection,
                values=form.validated_data["settings"],
                actor=request.user,
            )
        wanted = form.validated_data.get("status")
        if wanted == ConnectionStatus.PAUSED:
            connection_pause(connection=connection, reason=PAUSED_BY_COMPANY, actor=request.user)
        elif wanted == ConnectionStatus.ACTIVE and connection.status != ConnectionStatus.ACTIVE:
            connection_resume(connection=connection, actor=request.user)
        connection.refresh_from_db()
        return Response(ConnectionSerializer(connection).data)


@extend_schema(parameters=[TENANT_PARAMETER, CONNECTION_PARAMETER])
class ConnectionAuthorizeView(ConnectionMixin, APIView):
    @extend_schema(
        request=ClientCredentialsSerializer,
        responses={200: ConnectionSerializer, **errors(400, 401, 403, 404, 415, 502)},
        summary="Authorise as a service account (client credentials) and activate; 502 when "
        "the accounting system refuses",
    )
    def post(self, request, tenant_id, connection_id):
        connection = self.connection()
        form = ClientCredentialsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            connection = client_credentials_authorize(
                connection=connection,
                remote_tenant_id=form.validated_data["remote_tenant_id"],
                actor=request.user,
            )
        except UnknownSystem:
            return api_error(400, "not_available", "This system cannot be connected yet.")
        except IntegrationError as error:
            return api_error(502, "remote_error", f"The accounting system refused: {error}")
        return Response(ConnectionSerializer(connection).data)


@extend_schema(parameters=[TENANT_PARAMETER, CONNECTION_PARAMETER])
class ConnectionSyncView(ConnectionMixin, APIView):
    @extend_schema(
        request=None,
        responses={202: SyncRunSerializer, **errors(400, 401, 403, 404, 409)},
        summary="Start a sync run now; 409 while one is queued or running",
    )
    def post(self, request, tenant_id, connection_id):
        try:
            run = sync_run_start(
                connection=self.connection(), trigger=SyncTrigger.API, actor=request.user
            )
        except RunInProgress as error:
            return api_error(
                409,
                "sync_running",
                str(error),
                fields={"syncrun_id": [str(error.run.pk)]} if error.run else None,
            )
        return Response(SyncRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(parameters=[TENANT_PARAMETER, CONNECTION_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        responses={200: SyncRunSerializer(many=True), **TENANT_ERRORS},
        summary="The connection's sync runs, newest first",
    )
)
class SyncRunListView(ConnectionMixin, generics.ListAPIView):
    serializer_class = SyncRunSerializer

    def get_queryset(self):
        return SyncRun.objects.filter(connection=self.connection()).order_by("-created_at", "-pk")


@extend_schema(parameters=[TENANT_PARAMETER, CONNECTION_PARAMETER, SYNCRUN_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        parameters=[TransferQuerySerializer],
        responses={200: TransferSerializer(many=True), **errors(400, 401, 403, 404)},
        summary="The run's transfer log: one row per record, with the outcome and why",
    )
)
class TransferListView(ConnectionMixin, generics.ListAPIView):
    serializer_class = TransferSerializer

    def get_queryset(self):
        query = TransferQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        run = get_object_or_404(SyncRun, pk=self.kwargs["syncrun_id"], connection=self.connection())
        transfers = run.transfers.order_by("pk")
        if query.validated_data.get("outcome"):
            transfers = transfers.filter(outcome=query.validated_data["outcome"])
        return transfers


# Visma.net ERP subaccount segments.


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
            segments = dimension_segments(dimension=client_for(connection).subaccount_dimension())
        except IntegrationError as error:
            return api_error(502, "remote_error", f"Visma.net ERP refused: {error}")
        settings = segment_settings(connection=connection)
        overview = segment_overview(connection=connection, segments=segments)

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
            segments = dimension_segments(dimension=client_for(connection).subaccount_dimension())
        except IntegrationError as error:
            return api_error(502, "remote_error", f"Visma.net ERP refused: {error}")
        segment_settings_save(
            connection=connection,
            segments=segments,
            department_segment=form.validated_data["department_segment"],
            cost_centre_segment=form.validated_data["cost_centre_segment"],
            business_units=form.validated_data.get("business_units", {}),
            cost_centres=form.validated_data.get("cost_centres", {}),
            actor=request.user,
        )
        return self._answer(connection)


# The agent of a connection (Visma Global).


def _agent_connection(view):
    connection = view.connection()
    if not getattr(connector_for(connection.system), "uses_agent", False):
        return None
    return connection


@extend_schema(parameters=[TENANT_PARAMETER, CONNECTION_PARAMETER])
class ConnectionAgentView(ConnectionMixin, APIView):
    @extend_schema(
        responses={200: AgentStatusSerializer, **TENANT_ERRORS},
        summary="The connection's agent: online, versions, last job, go-live checklist",
    )
    def get(self, request, tenant_id, connection_id):
        connection = _agent_connection(self)
        if connection is None:
            return api_error(404, "no_agent", "This connection has no agent.")
        return Response(AgentStatusSerializer(agent_status(connection)).data)

    @extend_schema(
        request=None,
        responses={200: AgentKeySerializer, **errors(401, 403, 404)},
        summary="Issue a new agent key (the old one stops working); the key is shown once",
    )
    def post(self, request, tenant_id, connection_id):
        connection = _agent_connection(self)
        if connection is None:
            return api_error(404, "no_agent", "This connection has no agent.")
        key = agent_key_issue(connection=connection, actor=request.user)
        return Response(AgentKeySerializer({**agent_status(connection), "key": key}).data)

    @extend_schema(
        request=None,
        responses={204: None, **errors(401, 403, 404)},
        summary="Revoke the agent key: the agent is refused at its next call",
    )
    def delete(self, request, tenant_id, connection_id):
        connection = _agent_connection(self)
        if connection is None:
            return api_error(404, "no_agent", "This connection has no agent.")
        agent_key_revoke(connection=connection, actor=request.user)
        return Response(status=204)
