"""Invoice numbering and the billing runs with their chunks."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models.sellers import SellerEntity


class InvoiceCounter(models.Model):
    """The next number of one seller's series, locked with SELECT … FOR UPDATE inside the
    issuing transaction: a rolled-back issue gives its number back, so numbers have no gaps."""

    seller = models.ForeignKey(SellerEntity, on_delete=models.PROTECT, related_name="counters")
    series = models.CharField(max_length=20)
    next_number = models.PositiveBigIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "series"], name="invoice_counter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.seller} {self.series}: next {self.next_number}"


class BillingRunKind(models.TextChoices):
    ROLLOVER = "rollover", _("Period rollover")
    INVOICING = "invoicing", _("Invoicing run")
    OVERDUE = "overdue", _("Overdue marking")


class BillingRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")


class BillingRun(models.Model):
    """One job for one date. The unique key makes a second run of the same job for the same
    date the same row: a re-run continues it instead of starting another."""

    kind = models.CharField(max_length=16, choices=BillingRunKind.choices)
    run_date = models.DateField()
    status = models.CharField(
        max_length=16, choices=BillingRunStatus.choices, default=BillingRunStatus.RUNNING
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-run_date", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "run_date"], name="billing_run_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.run_date}"


class BillingRunChunkStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class BillingRunChunk(models.Model):
    """One share of a run's work, claimed by one worker at a time (`billing.chunks`): the
    subscriptions a rollover renews, or the orders of the recipients an invoicing run
    invoices. A worker claims an open chunk with `SELECT … FOR UPDATE SKIP LOCKED` and does
    its work in the same transaction: done and committed together, or, if the worker dies,
    rolled back together and left open for another."""

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    # Subscription ids (rollover) or order ids (invoicing).
    items = models.JSONField()
    status = models.CharField(
        max_length=8, choices=BillingRunChunkStatus.choices, default=BillingRunChunkStatus.OPEN
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="billing_run_chunk_unique"),
        ]
        indexes = [
            models.Index(
                fields=["run", "number"],
                condition=Q(status="open"),
                name="billing_run_chunk_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.run} #{self.number}"
