"""Connections need their interface: created only while it is active, paused when its
removal takes effect; settings are validated; scheduled runs are queued for active ones."""

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope, scopes_disabled

from accounts.models import AuditEvent
from integrations.connections import (
    INTERFACE_GONE,
    ConnectionStatusError,
    connection_create,
    connection_settings_update,
    connection_status_move,
)
from integrations.models import Connection, ConnectionStatus, SyncRun, SyncRunStatus
from integrations.runs import sync_run_execute, sync_runs_queue
from subscriptions.models import Subscription
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db


def _interfaces(tenant, codes):
    with scopes_disabled():
        Subscription.objects.filter(tenant=tenant).update(interfaces=codes)


def test_a_connection_needs_its_interface(tenant, admin_user):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, interfaces=["visma-global"])
    with scope(tenant=tenant.pk):
        with pytest.raises(ValidationError) as refused:
            connection_create(tenant=tenant, system="fortnox", actor=admin_user)
        assert "not part of the subscription" in refused.value.messages[0]
        assert not Connection.objects.exists()
        created = connection_create(tenant=tenant, system="visma_global", actor=admin_user)
        assert created.status == ConnectionStatus.DRAFT
        with pytest.raises(ValidationError) as twice:
            connection_create(tenant=tenant, system="visma_global", actor=admin_user)
        assert "already" in twice.value.messages[0]
        assert Connection.objects.count() == 1


def test_settings_are_checked_and_nothing_is_saved_on_a_refusal(connection):
    with scope(tenant=connection.tenant_id):
        with pytest.raises(ValidationError) as refused:
            connection_settings_update(
                connection=connection,
                values={
                    "send_status_id": 99,
                    "default_product_id": 98,
                    "error_emails": ["not-an-address"],
                    "customers_master": "remote",
                },
                actor=None,
            )
        assert set(refused.value.message_dict) == {
            "send_status_id",
            "default_product_id",
            "error_emails",
        }
        connection.refresh_from_db()
        assert (connection.send_status_id, connection.customers_master) == (11, "severa")
        updated = connection_settings_update(
            connection=connection,
            values={
                "error_emails": [" ERP@Example.test", "erp@example.test", "cfo@example.test"],
                "paid_status_id": 13,
                "products_master": "remote",
            },
            actor=None,
        )
        assert updated.error_emails == ["erp@example.test", "cfo@example.test"]
        assert (updated.paid_status_id, updated.products_master) == (13, "remote")


def test_an_active_connection_keeps_its_required_statuses(active_connection):
    with scope(tenant=active_connection.tenant_id), pytest.raises(ValidationError) as refused:
        connection_settings_update(
            connection=active_connection, values={"received_status_id": None}, actor=None
        )
    assert "received_status_id" in refused.value.message_dict


def test_a_run_after_the_interface_was_removed_pauses_the_connection(active_connection, world):
    _interfaces(active_connection.tenant, [])
    with scope(tenant=active_connection.tenant_id):
        run = SyncRun.objects.create(
            tenant_id=active_connection.tenant_id,
            connection=active_connection,
            trigger="scheduled",
            created_at=active_connection.created_at,
        )
        run = sync_run_execute(run=run)
        active_connection.refresh_from_db()
    assert run.status == SyncRunStatus.FAILED
    assert run.error == INTERFACE_GONE
    assert active_connection.status == ConnectionStatus.PAUSED
    assert active_connection.status_reason == INTERFACE_GONE
    assert world.system.requests == {}


def test_the_schedule_queues_active_connections_and_pauses_those_without_interface(
    active_connection, other_tenant, world
):
    from tests.factories import connection_create_for

    with scopes_disabled():
        other = connection_create_for(other_tenant, send_status_id=11, received_status_id=12)
        Connection.objects.filter(pk=other.pk).update(status=ConnectionStatus.ACTIVE)
    _interfaces(other_tenant, [])

    assert sync_runs_queue() == 1
    # Again: the open run stops a second one.
    assert sync_runs_queue() == 0

    with scopes_disabled():
        assert list(SyncRun.objects.values_list("connection_id", "trigger", "status")) == [
            (active_connection.pk, "scheduled", "queued")
        ]
        other.refresh_from_db()
    assert other.status == ConnectionStatus.PAUSED
    assert other.status_reason == INTERFACE_GONE


def test_the_rollover_that_removes_the_interface_pauses_the_connection(active_connection):
    import datetime

    from billing.rollover import rollover_run
    from severa import clock
    from subscriptions.models import ChangeKind, ScheduledChange

    with scopes_disabled():
        subscription = Subscription.objects.get(tenant=active_connection.tenant)
        ScheduledChange.objects.create(
            tenant=subscription.tenant,
            subscription=subscription,
            kind=ChangeKind.INTERFACE,
            value="fortnox",
            description="Fortnox removed",
            effective_date=subscription.period_end + datetime.timedelta(days=1),
            created_at=clock.now(),
        )
        first_day = subscription.period_end + datetime.timedelta(days=1)
        with clock.frozen(first_day):
            rollover_run(on=first_day, deliver=False)
        subscription.refresh_from_db()
        active_connection.refresh_from_db()
    assert subscription.interfaces == []
    assert active_connection.status == ConnectionStatus.PAUSED
    assert active_connection.status_reason == INTERFACE_GONE


def _connection_moves(connection):
    with scopes_disabled():
        return list(
            AuditEvent.objects.filter(subject_type="integrations.connection")
            .filter(subject_id=str(connection.pk))
            .exclude(action__in=["integration.created"])
            .order_by("pk")
            .values_list("action", "actor_kind", "details__from")
        )


def test_a_connections_status_moves_only_where_allowed_and_each_move_is_audited_once(
    active_connection, tenant_admin
):
    connection = active_connection
    assert _connection_moves(connection) == [("integration.connected", "system", "draft")]
    with scope(tenant=connection.tenant_id):
        connection_status_move(
            connection=connection, to=ConnectionStatus.PAUSED, actor=tenant_admin, reason="Later."
        )
        assert (connection.status, connection.status_reason) == (ConnectionStatus.PAUSED, "Later.")
        # Paused is not paused again: nothing changes, nothing is audited.
        with pytest.raises(ConnectionStatusError):
            connection_status_move(
                connection=connection, to=ConnectionStatus.PAUSED, actor=tenant_admin
            )
        stored = Connection.objects.get(pk=connection.pk)
    assert (stored.status, stored.status_reason) == (ConnectionStatus.PAUSED, "Later.")
    assert _connection_moves(connection) == [
        ("integration.connected", "system", "draft"),
        ("integration.paused", "user", "active"),
    ]


def test_a_draft_connection_cannot_be_paused(connection, tenant_admin):
    with scope(tenant=connection.tenant_id):
        with pytest.raises(ConnectionStatusError) as refused:
            connection_status_move(
                connection=connection, to=ConnectionStatus.PAUSED, actor=tenant_admin
            )
        assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.DRAFT
    assert str(refused.value) == "A connection that is Not connected cannot become Paused."
    assert _connection_moves(connection) == []
