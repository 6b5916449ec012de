"""ERP connections under /api/v1/tenants/{tenant_id}/connections: settings, service-account
authorisation, sync runs and their transfer log; for the tenant's admins, its partners and
operators, like the Integrations page."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.tenancy import MANAGING_ROLES, TenantScopedAPIMixin
from api.errors import api_error
from api.idempotency import idempotent
from api.integrations.serializers import (
    ClientCredentialsSerializer,
    ConnectionCreateSerializer,
    ConnectionSerializer,
    ConnectionUpdateSerializer,
    SyncRunSerializer,
    TransferQuerySerializer,
    TransferSerializer,
)
from api.schema import IDEMPOTENCY_PARAMETER, TENANT_ERRORS, TENANT_PARAMETER, errors
from integrations.connections import (
    PAUSED_BY_COMPANY,
    connection_create,
    connection_pause,
    connection_resume,
    connection_settings_update,
)
from integrations.connectors import UnknownSystem
from integrations.errors import IntegrationError
from integrations.models import Connection, ConnectionStatus, SyncRun, SyncTrigger
from integrations.oauth import client_credentials_authorize
from integrations.runs import RunInProgress, sync_run_start

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
            by_user=request.user,
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
                by_user=request.user,
            )
        wanted = form.validated_data.get("status")
        if wanted == ConnectionStatus.PAUSED:
            connection_pause(connection=connection, reason=PAUSED_BY_COMPANY, by_user=request.user)
        elif wanted == ConnectionStatus.ACTIVE and connection.status != ConnectionStatus.ACTIVE:
            connection_resume(connection=connection, by_user=request.user)
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
                by_user=request.user,
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
                connection=self.connection(), trigger=SyncTrigger.API, by_user=request.user
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
