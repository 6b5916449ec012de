"""The agent of a connection (Visma Global) under
/api/v1/tenants/{tenant_id}/connections/{connection_id}/agent: its state, and its key
(issued or rotated: shown once in the answer; revoked)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import api_error
from api.integrations.views import CONNECTION_PARAMETER, ConnectionMixin
from api.schema import TENANT_ERRORS, TENANT_PARAMETER, errors
from integrations.agent_status import agent_status
from integrations.agents import agent_key_issue, agent_key_revoke
from integrations.connectors import connector_for


class AgentStatusSerializer(serializers.Serializer):
    has_key = serializers.BooleanField()
    key_prefix = serializers.CharField()
    key_issued_at = serializers.DateTimeField(allow_null=True)
    online = serializers.BooleanField()
    offline_for_a_day = serializers.BooleanField()
    last_seen_at = serializers.DateTimeField(allow_null=True)
    agent_version = serializers.CharField()
    remote_version = serializers.CharField()
    minimum_version = serializers.CharField()
    too_old = serializers.BooleanField()
    last_job_at = serializers.DateTimeField(allow_null=True)
    last_job_kind = serializers.CharField()
    checklist = serializers.JSONField()


class AgentKeySerializer(AgentStatusSerializer):
    key = serializers.CharField(help_text="The agent key: shown this once, stored hashed.")


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
        key = agent_key_issue(connection=connection, by_user=request.user)
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
        agent_key_revoke(connection=connection, by_user=request.user)
        return Response(status=204)
