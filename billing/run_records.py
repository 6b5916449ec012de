"""The `BillingRun` row of a job: how far a run for one date got, and what it did.

A run is keyed by (kind, run date), a unique constraint: starting the same job for the same
date again (a re-run, a second beat, a redelivered task, two workers at once) lands on the
same row instead of making another. Every start adds one to `attempts` and sets the status to
running; the end of an attempt adds its counts to the row's under the row lock, so two
attempts running at once both count what they did (each effect is done by exactly one of
them: the jobs' own unique keys see to that).

Errors are the latest attempt's, not a history: a re-run re-checks everything, so an error
that has been fixed meanwhile (a price added, a bank account entered) disappears, and one
that has not is reported again. An attempt that crashes (an exception) marks the run failed
with the error; one that is killed outright leaves it running until the next attempt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction

from accounts.audit import AuditAction, audit_record
from billing.models import BillingRun, BillingRunStatus
from severa import clock

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunError:
    """One thing a run could not do; it skipped it and went on with the rest."""

    # None for an error that concerns no single tenant.
    tenant_id: int | None
    message: str
    subscription_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"tenant_id": self.tenant_id, "message": self.message}
        if self.subscription_id is not None:
            data["subscription_id"] = self.subscription_id
        return data


@dataclass
class RunTally:
    """What one attempt did: counts by name (added up over attempts) and its errors."""

    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RunError] = field(default_factory=list)

    @classmethod
    def of(cls, *names: str) -> RunTally:
        """A tally that reports each of `names`, zero included."""
        return cls(counts=dict.fromkeys(names, 0))

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def merge(self, other: RunTally) -> None:
        for name, amount in other.counts.items():
            self.add(name, amount)
        self.errors.extend(other.errors)


def run_begin(*, kind: str, run_date: date) -> BillingRun:
    """The run of `kind` for `run_date`, created or re-opened for one more attempt."""
    now = clock.now()
    with transaction.atomic():
        # get_or_create retries the read when a concurrent creator wins the unique key.
        run, created = BillingRun.objects.get_or_create(
            kind=kind, run_date=run_date, defaults={"started_at": now}
        )
        if created:
            return run
        run = BillingRun.objects.select_for_update().get(pk=run.pk)
        run.attempts += 1
        run.status = BillingRunStatus.RUNNING
        run.finished_at = None
        run.errors = []
        run.save(update_fields=["attempts", "status", "finished_at", "errors"])
    return run


def run_end(*, run: BillingRun, tally: RunTally) -> BillingRun:
    """Add the attempt's counts to the run's and mark it finished."""
    with transaction.atomic():
        locked = BillingRun.objects.select_for_update().get(pk=run.pk)
        _tally_merge(locked, tally)
        locked.status = BillingRunStatus.FINISHED
        locked.finished_at = clock.now()
        locked.save(update_fields=["counts", "errors", "status", "finished_at"])
        audit_record(
            actor=None,
            action=AuditAction.BILLING_RUN_FINISHED,
            subject_ref=(locked._meta.label_lower, locked.pk, locked.run_date.isoformat()),
            details={"kind": locked.kind, "counts": locked.counts},
        )
    for error in tally.errors:
        logger.error(
            "%s run %s: tenant %s: %s", run.kind, run.run_date, error.tenant_id, error.message
        )
    return locked


def run_counts_add(*, run: BillingRun, tally: RunTally) -> BillingRun:
    """Add a helper's counts and errors to the run's, under the row lock, leaving its status
    to the attempt that runs it (`billing.runs.run_help`)."""
    with transaction.atomic():
        locked = BillingRun.objects.select_for_update().get(pk=run.pk)
        _tally_merge(locked, tally)
        locked.save(update_fields=["counts", "errors"])
    return locked


def _tally_merge(locked: BillingRun, tally: RunTally) -> None:
    """Add `tally` to the locked run's counts and errors (not saved)."""
    counts = dict(locked.counts)
    for name, amount in tally.counts.items():
        counts[name] = counts.get(name, 0) + amount
    # A concurrent attempt may have reported the same error: keep one of each.
    errors = list(locked.errors)
    for error in tally.errors:
        if error.as_json() not in errors:
            errors.append(error.as_json())
    counts["errors"] = len(errors)
    locked.counts = counts
    locked.errors = errors


def run_failed(*, run: BillingRun, tally: RunTally, error: BaseException) -> None:
    """Record a crashed attempt: what it did before the crash, and why it stopped."""
    with transaction.atomic():
        locked = BillingRun.objects.select_for_update().get(pk=run.pk)
        counts = dict(locked.counts)
        for name, amount in tally.counts.items():
            counts[name] = counts.get(name, 0) + amount
        locked.counts = counts
        locked.errors = [
            *locked.errors,
            *(e.as_json() for e in tally.errors),
            {"message": f"{type(error).__name__}: {error}"},
        ]
        locked.status = BillingRunStatus.FAILED
        locked.finished_at = clock.now()
        locked.save(update_fields=["counts", "errors", "status", "finished_at"])
        audit_record(
            actor=None,
            action=AuditAction.BILLING_RUN_FAILED,
            subject_ref=(locked._meta.label_lower, locked.pk, locked.run_date.isoformat()),
            details={"kind": locked.kind, "error": f"{type(error).__name__}: {error}"},
        )


def run_summary(*, run: BillingRun) -> dict[str, Any]:
    """The run as one JSON-ready object (the command's output line, the task's result)."""
    return {
        "kind": run.kind,
        "run_date": run.run_date.isoformat(),
        "status": run.status,
        "attempts": run.attempts,
        "counts": run.counts,
        "errors": run.errors,
    }
