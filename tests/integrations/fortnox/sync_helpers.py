"""Shared set-up of the Fortnox sync tests: a tenant with its invoice statuses, a Fortnox
connection authorised through the fake's OAuth endpoints, and helpers to run a sync and read
its transfer log."""

from __future__ import annotations

from django_scopes import scope

from integrations.models import Connection, EntityMap, SyncRun, SyncTrigger, Transfer
from integrations.oauth import authorization_complete, callback_url
from integrations.runs import sync_run_execute, sync_run_start


def connect(connection: Connection, fake, admin) -> Connection:
    """Authorise `connection` the way the callback does, with a code the fake issued."""
    code = fake.issue_code(redirect_uri=callback_url())
    with scope(tenant=connection.tenant_id):
        return authorization_complete(connection=connection, code=code, actor=admin)


def sync(connection: Connection) -> SyncRun:
    with scope(tenant=connection.tenant_id):
        connection.refresh_from_db()
        run = sync_run_start(connection=connection, trigger=SyncTrigger.MANUAL, actor=None)
        return sync_run_execute(run=run)


def log(run: SyncRun, entity_type: str | None = None) -> list[tuple[str, str, str, str, str]]:
    """(entity type, direction, label, outcome, reason) of every transfer of `run`."""
    with scope(tenant=run.tenant_id):
        transfers = Transfer.objects.filter(run=run).order_by("id")
        if entity_type:
            transfers = transfers.filter(entity_type=entity_type)
        return [(t.entity_type, t.direction, t.label, t.outcome, t.reason) for t in transfers]


def outcome_of(run: SyncRun, label_start: str) -> tuple[str, str]:
    """(outcome, reason) of the one transfer whose label starts with `label_start`."""
    found = [entry for entry in log(run) if entry[2].startswith(label_start)]
    assert len(found) == 1, found
    return found[0][3], found[0][4]


def remote_map(connection: Connection, entity_type: str) -> dict[int, str | None]:
    with scope(tenant=connection.tenant_id):
        return dict(
            EntityMap.objects.filter(connection=connection, entity_type=entity_type).values_list(
                "local_id", "remote_id"
            )
        )


def records_of(fake, path: str) -> dict[str, dict]:
    return fake.company().records[path]


def writes(fake) -> int:
    return sum(1 for entry in fake.requests() if entry.is_write)
