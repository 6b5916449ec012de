"""Connections, sync runs and transfers, Visma.net ERP segments and a connection's agent in
the API. Types only: every rule is in ``integrations.connections``, ``integrations.runs``,
``integrations.vismanet.segments`` and ``integrations.agents``."""

from rest_framework import serializers

from integrations.connections import MAX_ERROR_EMAILS
from integrations.models import (
    AuthKind,
    ConnectionStatus,
    Master,
    OrderReferenceTo,
    SyncRunStatus,
    SyncTrigger,
    TransferDirection,
    TransferOutcome,
)
from subscriptions.models import InterfaceSystem


def _status_id(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1, allow_null=True, required=False, help_text=help_text
    )


class ConnectionSettingsSerializer(serializers.Serializer):
    """The set-up checklist. Invoice statuses and the product are ids of the tenant's
    records; the statuses that send and that mark received must be set to connect."""

    send_status_id = _status_id("The invoice status that sends an invoice to the system.")
    received_status_id = _status_id("The status an invoice moves to once it was received.")
    paid_status_id = _status_id("Optional: the status of an invoice paid in the system.")
    transfer_attachments = serializers.BooleanField(required=False)
    transfer_all_customers = serializers.BooleanField(
        required=False,
        help_text="Also transfer the customers that existed before the connection was "
        "activated (first run only).",
    )
    customers_master = serializers.ChoiceField(
        choices=Master.choices,
        required=False,
        help_text="Whose customer updates win; new customers flow both ways.",
    )
    products_master = serializers.ChoiceField(
        choices=Master.choices,
        required=False,
        help_text="Whose product updates win; new products flow both ways.",
    )
    default_product_id = _status_id("The product given to project fees from the system.")
    error_emails = serializers.ListField(
        child=serializers.EmailField(),
        max_length=MAX_ERROR_EMAILS,
        required=False,
        help_text="Addresses told about runs with failed records.",
    )
    order_reference_to = serializers.ChoiceField(
        choices=OrderReferenceTo.choices,
        required=False,
        help_text="Visma eEkonomi: where an invoice's order reference goes (its reference or "
        "a note), as eEkonomi has no order-number field.",
    )


class ConnectionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    system = serializers.ChoiceField(choices=InterfaceSystem.choices, read_only=True)
    status = serializers.ChoiceField(choices=ConnectionStatus.choices, read_only=True)
    status_reason = serializers.CharField(read_only=True)
    settings = ConnectionSettingsSerializer(source="*", read_only=True)
    is_authorized = serializers.BooleanField(read_only=True)
    auth_kind = serializers.ChoiceField(choices=AuthKind.choices, read_only=True, allow_blank=True)
    token_expires_at = serializers.DateTimeField(read_only=True, allow_null=True)
    authorized_at = serializers.DateTimeField(read_only=True, allow_null=True)
    activated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_synced_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the last successful run started; the next run reads what changed since.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ConnectionCreateSerializer(serializers.Serializer):
    system = serializers.ChoiceField(
        choices=InterfaceSystem.choices,
        help_text="The accounting system; its interface must be part of the subscription.",
    )
    settings = ConnectionSettingsSerializer(required=False)


class ConnectionUpdateSerializer(serializers.Serializer):
    settings = ConnectionSettingsSerializer(required=False)
    status = serializers.ChoiceField(
        choices=[ConnectionStatus.ACTIVE, ConnectionStatus.PAUSED],
        required=False,
        help_text="paused: stop syncing; active: resume a paused, authorised connection.",
    )


class ClientCredentialsSerializer(serializers.Serializer):
    remote_tenant_id = serializers.CharField(
        max_length=100, help_text="The accounting system's tenant id of the service account."
    )


class SyncRunSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    trigger = serializers.ChoiceField(choices=SyncTrigger.choices, read_only=True)
    status = serializers.ChoiceField(choices=SyncRunStatus.choices, read_only=True)
    changed_since = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="Records per outcome: created, updated, matched, skipped, failed, unchanged.",
    )
    progress_done = serializers.IntegerField(read_only=True)
    progress_total = serializers.IntegerField(read_only=True)
    error = serializers.CharField(read_only=True)


class TransferSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    entity_type = serializers.CharField(read_only=True)
    direction = serializers.ChoiceField(choices=TransferDirection.choices, read_only=True)
    local_id = serializers.IntegerField(read_only=True, allow_null=True)
    remote_id = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    outcome = serializers.ChoiceField(choices=TransferOutcome.choices, read_only=True)
    reason = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class TransferQuerySerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=TransferOutcome.choices, required=False)


# Visma.net ERP subaccount segments.


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


# The agent of a connection (Visma Global).


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
