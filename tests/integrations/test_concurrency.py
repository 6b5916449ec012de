"""Two workers at once: one refresh of a rotating refresh token, one execution of a run;
and runs left open are sent again."""

import datetime
import threading
import time

import psycopg
import pytest
from django.db import connection as db_connection
from django.db import connections
from django_scopes import scope, scopes_disabled

from integrations.encryption import field_encrypt
from integrations.models import AuthKind, Connection, SyncRun, SyncRunStatus
from integrations.runs import ADVISORY_LOCK_CLASS, sync_run_execute, sync_runs_resend_stale
from integrations.tokens import access_token_for, refresh_token_of
from severa import clock
from tests.integrations.memory import MemoryConnector


class SlowConnector(MemoryConnector):
    def refresh(self, refresh_token):
        time.sleep(0.3)  # both workers are inside access_token_for by then
        return super().refresh(refresh_token)


@pytest.mark.django_db(transaction=True)
def test_two_workers_refresh_a_rotating_token_once(active_connection, world):
    from integrations import connectors

    connectors.connector_register("fortnox", SlowConnector)
    with scopes_disabled():
        Connection.objects.filter(pk=active_connection.pk).update(
            auth_kind=AuthKind.AUTHORIZATION_CODE,
            access_token_encrypted=field_encrypt("old-access"),
            refresh_token_encrypted=field_encrypt("rotating-1"),
            token_expires_at=clock.now() + datetime.timedelta(minutes=1),
        )
    MemoryConnector.calls.clear()
    tokens: list[str] = []
    failures: list[BaseException] = []

    def worker():
        try:
            with scope(tenant=active_connection.tenant_id):
                stale = Connection.objects.get(pk=active_connection.pk)
                tokens.append(access_token_for(connection=stale))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    # One refresh: the second worker waited for the row lock and found the new token.
    assert [call[0] for call in MemoryConnector.calls] == ["refresh"]
    assert len(set(tokens)) == 1 and tokens[0].startswith("refreshed-access-")
    with scopes_disabled():
        stored = Connection.objects.get(pk=active_connection.pk)
        assert refresh_token_of(connection=stored).startswith("refreshed-refresh-")


@pytest.mark.django_db
def test_a_run_another_worker_executes_is_left_alone(active_connection, world):
    with scope(tenant=active_connection.tenant_id):
        run = SyncRun.objects.create(
            tenant_id=active_connection.tenant_id,
            connection=active_connection,
            trigger="manual",
            created_at=clock.now(),
        )
    world.local.add("customer", "1001", "Acme Oy")
    # Another worker's session holds the run's lock.
    params = db_connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_LOCK_CLASS, run.pk])
        with scope(tenant=active_connection.tenant_id):
            untouched = sync_run_execute(run=run)
            untouched.refresh_from_db()
        assert untouched.status == SyncRunStatus.QUEUED
        assert world.system.writes == 0
        # That worker finishes (a closed session releases its locks too, but asynchronously).
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_CLASS, run.pk])
    with scope(tenant=active_connection.tenant_id):
        done = sync_run_execute(run=run)
    assert done.status == SyncRunStatus.SUCCEEDED
    assert world.system.writes == 1


@pytest.mark.django_db
def test_runs_left_open_are_sent_again(
    active_connection, world, django_capture_on_commit_callbacks
):
    now = clock.now()
    with scope(tenant=active_connection.tenant_id):
        old = SyncRun.objects.create(
            tenant_id=active_connection.tenant_id,
            connection=active_connection,
            trigger="scheduled",
            created_at=now - datetime.timedelta(minutes=11),
        )
    world.local.add("customer", "1001", "Acme Oy")
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_runs_resend_stale() == 1
    with scopes_disabled():
        old.refresh_from_db()
    assert old.status == SyncRunStatus.SUCCEEDED  # eager Celery ran the resent task
    assert world.system.writes == 1
