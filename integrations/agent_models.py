"""On-premises agents (Visma Global): the program a tenant installs beside an accounting
system that only runs at its site. It holds one key of its connection, fetches its settings
and jobs from the service over outbound HTTPS and posts the results
(integrations/agents.py, integrations/agent_api.py)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class Agent(models.Model):
    """The agent of one connection: its key (stored hashed; shown once when issued), the
    instance that holds it, and what it last told about itself."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    connection = models.OneToOneField(
        "integrations.Connection", on_delete=models.CASCADE, related_name="agent"
    )
    # sha256 of the key; the first characters of the key identify it on the page.
    key_hash = models.CharField(max_length=64, blank=True, db_index=True)
    key_prefix = models.CharField(max_length=16, blank=True)
    key_issued_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The running program that holds the key (a random id it makes at start): a second
    # program with the same key is refused while the first one is online.
    instance_id = models.CharField(max_length=64, blank=True)
    hostname = models.CharField(max_length=200, blank=True)
    agent_version = models.CharField(max_length=40, blank=True)
    remote_version = models.CharField(max_length=40, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_job_at = models.DateTimeField(null=True, blank=True)
    last_job_kind = models.CharField(max_length=60, blank=True)
    # When the error addresses were told the agent is offline (once per outage).
    offline_mailed_at = models.DateTimeField(null=True, blank=True)
    # System settings the agent needs beyond the connection's (Visma Global: the customer
    # types that transfer, whether supplier invoices are billable, the fee article).
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedManager(tenant="tenant")

    def __str__(self) -> str:
        return f"Agent of {self.connection_id}"

    @property
    def has_key(self) -> bool:
        return bool(self.key_hash) and self.revoked_at is None


class AgentJobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    TAKEN = "taken", _("Taken by the agent")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    # Not taken in time and withdrawn: the agent never sees it.
    CANCELLED = "cancelled", _("Cancelled")


class AgentJob(models.Model):
    """One call the service asks the agent to make against the accounting system. A write
    carries an idempotency id (`write_id`): the agent keeps what each id wrote, so a job
    given again after a lost answer never writes twice."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="agent_jobs"
    )
    run = models.ForeignKey(
        "integrations.SyncRun", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    operation = models.CharField(max_length=60)
    payload = models.JSONField(default=dict, blank=True)
    is_write = models.BooleanField(default=False)
    write_id = models.CharField(max_length=120, blank=True)
    status = models.CharField(
        max_length=12, choices=AgentJobStatus.choices, default=AgentJobStatus.QUEUED
    )
    taken_by = models.CharField(max_length=64, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["connection", "id"],
                condition=Q(status="queued"),
                name="integration_agentjob_queued",
            )
        ]

    def __str__(self) -> str:
        return f"Job {self.pk} {self.operation}: {self.status}"
