"""What every connector must do against its fake (the kit's harness injects the faults):

- under 20 % random 5xx, 429s, timeouts and lost answers it converges: nothing missing,
  nothing twice;
- a late commit (applied after the client's timeout) on every create kind leaves exactly one
  remote record after any number of runs;
- a missing permission on one entity type blocks that one only, reported, and it is tried
  again at once after re-authorisation;
- a second run with no changes makes no write;
- two workers with a rotating refresh token refresh once;
- two workers (two tenants' connections to one remote company) never exceed the rate limit.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections
from django_scopes import scope, scopes_disabled

from integrations.models import BlockedEntity, Connection, SyncRunStatus, Transfer
from integrations.tokens import access_token_for
from severa import clock
from tests.factories import TenantFactory
from tests.integrations.conformance.conftest import Company

pytestmark = pytest.mark.django_db


def outcomes(run) -> list[tuple[str, str]]:
    with scope(tenant=run.tenant_id):
        return list(
            Transfer.objects.filter(run=run).order_by("id").values_list("entity_type", "outcome")
        )


def assert_complete(kit, company: Company) -> None:
    """Every record the company has is in the remote system once, none twice."""
    for entity_type in kit.create_kinds:
        markers = kit.remote_markers(entity_type)
        assert set(markers) == company.expected[entity_type], entity_type
        assert set(markers.values()) == {1}, (entity_type, markers)


def converge(kit, company: Company, *, runs: int = 12):
    done = []
    for _attempt in range(runs):
        done.append(company.sync())
        if done[-1].status == SyncRunStatus.SUCCEEDED:
            return done
        time.sleep(kit.settle_seconds / 2)
    raise AssertionError([(run.status, run.error, run.counts) for run in done])


def test_random_faults_converge_without_duplicates_or_gaps(kit, company):
    kit.random_faults(0.2)

    converge(kit, company, runs=15)

    faults = kit.faults_seen()
    assert sum(faults.values()) >= 8, faults
    assert {"error_500", "429", "timeout"} <= set(faults), faults
    kit.no_faults()
    assert_complete(kit, company)
    # Nothing more happens once converged.
    assert company.sync().status == SyncRunStatus.SUCCEEDED
    assert_complete(kit, company)


def test_a_late_commit_on_every_create_kind_gives_exactly_one_remote_record(kit, company):
    for entity_type in kit.create_kinds:
        kit.late_commit_next_create(entity_type)

    first = company.sync()

    assert first.status == SyncRunStatus.PARTIAL
    assert first.counts["unverified"] >= 1
    # Any number of runs, before and after the late writes land: one record each.
    for _attempt in range(5):
        company.sync()
        time.sleep(kit.settle_seconds / 3)
    run = converge(kit, company)[-1]
    # (A create kind that waits for another, e.g. products for their unit, meets its late
    # commit in a later run.)
    assert kit.late_commits() == len(kit.create_kinds)
    assert run.counts.get("unverified", 0) == 0
    assert_complete(kit, company)
    with scope(tenant=company.tenant.pk):
        assert not Transfer.objects.filter(
            run__connection=company.connection, outcome="failed"
        ).exists()


def _scoped_entities() -> list[tuple[str, str]]:
    from integrations import connectors

    return [
        (system, entity.entity_type)
        for system in connectors.connectors_registered()
        if connectors.connector_kit(system)
        for entity in connectors.connector_facts(system).entities
        if entity.scope
    ]


@pytest.mark.parametrize("entity_type", sorted({entity for _system, entity in _scoped_entities()}))
def test_a_missing_permission_blocks_only_that_entity_type(
    kit, company, entity_type, django_capture_on_commit_callbacks, mailoutbox
):
    if entity_type not in {entity.entity_type for entity in kit.facts.entities if entity.scope}:
        pytest.skip(f"{kit.system} has no {entity_type} that a permission could block")
    kit.unlicense(entity_type)

    with django_capture_on_commit_callbacks(execute=True):
        first = company.sync()
        second = company.sync()

    assert first.status == SyncRunStatus.PARTIAL, first.error
    blocked = {entity for entity, outcome in outcomes(first) if outcome == "blocked"}
    assert blocked == {entity_type}
    assert [outcome for _entity, outcome in outcomes(first)].count("failed") == 0
    with scope(tenant=company.tenant.pk):
        row = BlockedEntity.objects.get(connection=company.connection)
    assert row.entity_type == entity_type
    assert str(kit.facts.entity(entity_type).what) in row.reason
    # One e-mail for the new problem, not one per run; the second run does not try again.
    assert len(mailoutbox) == 1
    assert outcomes(second) == [(entity_type, "blocked")] or all(
        outcome != "failed" for _entity, outcome in outcomes(second)
    )
    if entity_type in kit.create_kinds:
        assert kit.remote_markers(entity_type) == {}
    # Every entity type that does not need the blocked one got through.
    assert set(kit.remote_markers("customer")) == (
        set() if entity_type == "customer" else company.expected["customer"]
    )

    # Licensed and authorised again: tried at once, unblocked.
    kit.license(entity_type)
    with scopes_disabled():
        company.connection = kit.connect(company.connection, None)
    converge(kit, company)
    with scope(tenant=company.tenant.pk):
        assert not BlockedEntity.objects.filter(connection=company.connection).exists()
    assert_complete(kit, company)


def test_a_second_run_with_no_changes_makes_no_write(kit, company):
    converge(kit, company)
    writes = kit.writes()

    run = company.sync()

    assert run.status == SyncRunStatus.SUCCEEDED
    assert kit.writes() == writes
    assert outcomes(run) == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_with_a_rotating_refresh_token_refresh_once(kit, company):
    if not getattr(kit, "oauth", True):
        pytest.skip(f"{kit.system} connects through an agent key, not OAuth tokens")
    refreshes = kit.token_refreshes()
    with scopes_disabled():
        Connection.objects.filter(pk=company.connection.pk).update(token_expires_at=clock.now())
    tokens, failures = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            with scope(tenant=company.tenant.pk):
                stale = Connection.objects.get(pk=company.connection.pk)
                barrier.wait()
                tokens.append(access_token_for(connection=stale))
        except BaseException as error:  # noqa: BLE001 (reported below)
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert kit.token_refreshes() == refreshes + 1
    assert len(set(tokens)) == 1
    # The token works: a run goes through.
    assert company.sync().status in (SyncRunStatus.SUCCEEDED, SyncRunStatus.PARTIAL)


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_exceed_the_rate_limit(kit, tenant):
    # Two tenants' connections to one remote company, synced at the same time.
    first = Company(tenant, kit, customers=20, products=12, projects=0, invoices=0)
    second = Company(
        TenantFactory(name="Second Tenant Oy"),
        kit,
        customers=20,
        products=12,
        projects=0,
        invoices=0,
        numbers_from=30_000,
    )
    failures = []

    def worker(company):
        try:
            run = company.sync()
            if run.status != SyncRunStatus.SUCCEEDED:
                failures.append((run.status, run.error, run.counts))
        except BaseException as error:  # noqa: BLE001 (reported below)
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(company,)) for company in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert failures == []
    limit = kit.facts.rate_limit
    assert kit.max_in_window() <= limit.requests
    assert kit.refused_for_rate() == 0
