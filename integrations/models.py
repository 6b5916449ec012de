"""ERP connections (DESIGN §3.9): the connection and its settings, the entity map that pairs
each local record with its remote twin, and the log of sync runs and record transfers."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from subscriptions.models import InterfaceSystem


class ConnectionStatus(models.TextChoices):
    # Set up but not authorised yet (or being set up again after a disconnect is not this:
    # that is DISCONNECTED).
    DRAFT = "draft", _("Not connected")
    ACTIVE = "active", _("Active")
    # Not syncing: the interface left the subscription, the authorisation expired, or the
    # tenant paused it; `status_reason` says which.
    PAUSED = "paused", _("Paused")
    DISCONNECTED = "disconnected", _("Disconnected")


class Master(models.TextChoices):
    SEVERA = "severa", _("Severa")
    REMOTE = "remote", _("The accounting system")


class OrderReferenceTo(models.TextChoices):
    """Where an invoice's order reference goes in a system without an order-number field
    (Visma eEkonomi)."""

    REFERENCE = "reference", _("The invoice's reference (Your reference)")
    NOTE = "note", _("A note on the invoice (a text row)")


class AuthKind(models.TextChoices):
    AUTHORIZATION_CODE = "authorization_code", _("Signed in by an administrator")
    CLIENT_CREDENTIALS = "client_credentials", _("Service account")


class Connection(models.Model):
    """One tenant's link to one accounting system; one per tenant and system.

    The invoice status and product settings name records of the tenant's business data
    (`records.InvoiceStatus`, `records.Product`) by id; they are checked through
    `integrations.records` (the records app is wired in there).
    """

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="connections"
    )
    system = models.CharField(max_length=32, choices=InterfaceSystem.choices)
    status = models.CharField(
        max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.DRAFT
    )
    status_reason = models.CharField(max_length=300, blank=True)

    # Settings (the set-up checklist of the Severa ↔ Fortnox guide).
    # The invoice status that sends an invoice, the one it moves to once received, and an
    # optional one for "paid"; ids of records.InvoiceStatus (FKs once the records app lands).
    send_status_id = models.PositiveIntegerField(null=True, blank=True)
    received_status_id = models.PositiveIntegerField(null=True, blank=True)
    paid_status_id = models.PositiveIntegerField(null=True, blank=True)
    transfer_attachments = models.BooleanField(default=False)
    transfer_all_customers = models.BooleanField(default=False)
    customers_master = models.CharField(max_length=8, choices=Master.choices, default=Master.SEVERA)
    products_master = models.CharField(max_length=8, choices=Master.choices, default=Master.SEVERA)
    # The product given to project fees that come from the accounting system; records.Product.
    default_product_id = models.PositiveIntegerField(null=True, blank=True)
    error_emails = models.JSONField(default=list, blank=True)
    order_reference_to = models.CharField(
        max_length=16, choices=OrderReferenceTo.choices, default=OrderReferenceTo.REFERENCE
    )
    # Who is master per entity type beyond customers and products ({"project": "remote"});
    # systems with more master settings (Visma Global) keep them here.
    masters = models.JSONField(default=dict, blank=True)

    # Credentials, encrypted at rest (integrations/encryption.py).
    auth_kind = models.CharField(max_length=24, choices=AuthKind.choices, blank=True)
    remote_tenant_id = models.CharField(max_length=100, blank=True)
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    token_scope = models.CharField(max_length=500, blank=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    authorized_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    activated_at = models.DateTimeField(null=True, blank=True)
    # When the last run that succeeded started: the next run reads what changed since.
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # Per entity type, when the last run that transferred it without failures started
    # (ISO datetimes): one failing entity type does not make the others read again.
    entity_synced_at = models.JSONField(default=dict, blank=True)
    # The remote company this connection writes to, as the remote system names it
    # (Fortnox: the database number): the rate limit is counted per remote company.
    remote_company_id = models.CharField(max_length=100, blank=True)
    # Settings of one system only (Visma.net ERP: the subaccount segments and their
    # matches, integrations/vismanet/segments.py).
    system_settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["system"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "system"], name="integration_connection_one_per_system"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.get_system_display()}"

    @property
    def is_authorized(self) -> bool:
        """Tokens stored, or (systems served by an agent) a key issued and not revoked."""
        if self.access_token_encrypted:
            return True
        try:
            return self.agent.has_key
        except ObjectDoesNotExist:
            return False

    def master_for(self, entity_type: str) -> str:
        """Which system's updates win for `entity_type`; Severa for everything but customers
        and products (projects, invoices: always Severa)."""
        if entity_type in (self.masters or {}):
            return self.masters[entity_type]
        if entity_type == "customer":
            return self.customers_master
        if entity_type == "product":
            return self.products_master
        return Master.SEVERA


class EntityMap(models.Model):
    """Pairs a local record with its remote twin, so a sync never creates a record twice.

    Written before a remote record is created (`remote_id` empty: the intent, with its
    deterministic `reference`), completed with the remote id once known. `local_updated_at`
    and `remote_hash` are what the last sync saw on each side: a side whose record still
    matches them has not changed, and nothing is written for it.
    """

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="entity_maps")
    entity_type = models.CharField(max_length=32)
    local_id = models.PositiveBigIntegerField()
    remote_id = models.CharField(max_length=100, null=True, blank=True)
    reference = models.CharField(max_length=100)
    local_updated_at = models.DateTimeField(null=True, blank=True)
    remote_hash = models.CharField(max_length=64, blank=True)
    # A create whose outcome is unknown: since when, how many look-ups were made, how many
    # of them (made after the settling time) answered "not there", and when the next one is
    # due. The record is created again only when the connector's policy is satisfied.
    unverified_since = models.DateTimeField(null=True, blank=True)
    lookup_attempts = models.PositiveSmallIntegerField(default=0)
    lookups_absent = models.PositiveSmallIntegerField(default=0)
    next_lookup_at = models.DateTimeField(null=True, blank=True)
    # An update whose outcome is unknown: the remote record is read before writing again.
    update_unverified = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedManager(tenant="tenant")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "entity_type", "local_id"],
                name="integration_entitymap_one_per_local",
            ),
            models.UniqueConstraint(
                fields=["connection", "entity_type", "remote_id"],
                name="integration_entitymap_one_per_remote",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.local_id} ↔ {self.remote_id}"


class SyncTrigger(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    MANUAL = "manual", _("Sync now")
    API = "api", _("API")


class SyncRunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    # Finished, but some records failed: they are tried again by the next run.
    PARTIAL = "partial", _("Partly failed")


OPEN_RUN_STATUSES = (SyncRunStatus.QUEUED, SyncRunStatus.RUNNING)


class SyncRun(models.Model):
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=16, choices=SyncTrigger.choices)
    status = models.CharField(
        max_length=16, choices=SyncRunStatus.choices, default=SyncRunStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What changed since this moment was read (None: everything).
    changed_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Records per outcome (created, updated, matched, skipped, failed, unchanged).
    counts = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One run at a time per connection, whatever queues it (beat, button, API).
            models.UniqueConstraint(
                fields=["connection"],
                condition=Q(status__in=["queued", "running"]),
                name="integration_syncrun_one_open_per_connection",
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.connection_id}: {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RUN_STATUSES

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)


class TransferDirection(models.TextChoices):
    TO_REMOTE = "to_remote", _("To the accounting system")
    TO_LOCAL = "to_local", _("To Severa")


class TransferOutcome(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    # Paired with an existing record of the other system (same number/code and name).
    MATCHED = "matched", _("Matched")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")
    # The create was sent but its outcome is unknown: looked up again before any new create.
    UNVERIFIED = "unverified", _("Unverified")
    # The remote system refused the entity type (missing permission or licence).
    BLOCKED = "blocked", _("Blocked")


class Transfer(models.Model):
    """One record's transfer in one run, and why it ended as it did."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="transfers")
    entity_type = models.CharField(max_length=32)
    direction = models.CharField(max_length=16, choices=TransferDirection.choices)
    local_id = models.PositiveBigIntegerField(null=True, blank=True)
    remote_id = models.CharField(max_length=100, blank=True)
    # The record's number/code and name, as the tenant knows it.
    label = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=16, choices=TransferOutcome.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField()

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "outcome"])]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.label}: {self.outcome}"

    @property
    def entity_name(self) -> str:
        """The record's kind in the reader's language (listed from its run: no query)."""
        # Imported here: the connector registry's facts read these models.
        from integrations.connectors import connector_facts

        return connector_facts(self.run.connection.system).entity_name(self.entity_type)


class BlockedEntity(models.Model):
    """An entity type the remote system refuses to this connection (a missing scope,
    licence or module): skipped by the runs, tried again once a day or at once after the
    connection is authorised again. The tenant's error addresses hear of each new one once."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="blocked_entities"
    )
    entity_type = models.CharField(max_length=32)
    reason = models.TextField()
    # The remote system's own message and code, as it answered.
    remote_message = models.TextField(blank=True)
    blocked_at = models.DateTimeField()
    tried_at = models.DateTimeField()
    mailed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["entity_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "entity_type"], name="integration_blocked_one_per_entity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.entity_type}: blocked"


from integrations.agent_models import Agent, AgentJob, AgentJobStatus  # noqa: E402,F401
