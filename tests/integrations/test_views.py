"""The Integrations page, a connection's page, Sync now, the run page with its transfer
log and the progress fragment."""

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from integrations.models import Connection, SyncRun, SyncRunStatus
from tests.factories import SubscriptionFactory, sync_run_create, transfer_create

pytestmark = pytest.mark.django_db


def url(name, connection, **extra):
    return reverse(
        name, kwargs={"tenant_id": connection.tenant_id, "connection_id": connection.pk, **extra}
    )


def test_the_page_lists_every_system_with_its_interface_and_connection(
    verified_client, tenant_admin, connection
):
    page = verified_client(tenant_admin).get(
        reverse("tenant_integrations", kwargs={"tenant_id": connection.tenant_id})
    )
    html = page.content.decode()
    assert page.status_code == 200
    for name in ("Fortnox", "Visma Global", "Visma eEkonomi", "Visma.net ERP"):
        assert name in html
    assert url("tenant_integration", connection) in html
    assert html.count("not active") == 3  # the three interfaces the subscription lacks


def test_set_up_creates_a_draft_connection_only_for_an_active_interface(
    verified_client, tenant, tenant_admin
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, interfaces=["visma-net"])
    client = verified_client(tenant_admin)
    page = reverse("tenant_integrations", kwargs={"tenant_id": tenant.pk})

    refused = client.post(page, {"system": "fortnox"}, follow=True)
    assert "not part of the subscription" in refused.content.decode()
    response = client.post(page, {"system": "visma_net"})

    with scope(tenant=tenant.pk):
        created = Connection.objects.get()
    assert created.system == "visma_net"
    assert response["Location"] == url("tenant_integration", created)


def test_the_settings_form_saves_the_checklist(verified_client, tenant_admin, connection):
    response = verified_client(tenant_admin).post(
        url("tenant_integration", connection),
        {
            "send_status_id": "11",
            "received_status_id": "12",
            "paid_status_id": "13",
            "transfer_attachments": "on",
            "customers_master": "remote",
            "products_master": "severa",
            "default_product_id": "21",
            "error_emails": "erp@example.test, cfo@example.test",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        connection.refresh_from_db()
    assert connection.paid_status_id == 13
    assert connection.transfer_attachments is True
    assert connection.transfer_all_customers is False
    assert connection.customers_master == "remote"
    assert connection.default_product_id == 21
    assert connection.error_emails == ["erp@example.test", "cfo@example.test"]


def test_sync_now_queues_a_run_and_shows_its_page(
    verified_client, tenant_admin, active_connection, world
):
    client = verified_client(tenant_admin)
    response = client.post(url("tenant_integration_sync", active_connection))
    with scopes_disabled():
        run = SyncRun.objects.get(connection=active_connection)
    assert run.status == SyncRunStatus.QUEUED
    assert response["Location"] == url(
        "tenant_integration_run", active_connection, syncrun_id=run.pk
    )
    page = client.get(response["Location"]).content.decode()
    # While it is open, the progress fragment polls itself.
    assert 'hx-trigger="every 2s"' in page
    again = client.post(url("tenant_integration_sync", active_connection))
    assert again["Location"] == response["Location"]
    with scopes_disabled():
        assert SyncRun.objects.count() == 1


def test_the_run_page_filters_the_transfer_log_by_outcome(
    verified_client, tenant_admin, connection
):
    with scopes_disabled():
        run = sync_run_create(connection.tenant, counts={"created": 1, "failed": 1})
        transfer_create(connection.tenant, run=run, label="1001 Acme Oy", outcome="created")
        transfer_create(
            connection.tenant,
            run=run,
            label="1002 Bad VAT Oy",
            outcome="failed",
            reason="Invalid VAT number",
        )
    client = verified_client(tenant_admin)
    run_url = url("tenant_integration_run", connection, syncrun_id=run.pk)

    everything = client.get(run_url).content.decode()
    failed = client.get(run_url, {"outcome": "failed"}).content.decode()

    assert "1001 Acme Oy" in everything and "1002 Bad VAT Oy" in everything
    assert "1001 Acme Oy" not in failed
    assert "Invalid VAT number" in failed
    assert "hx-trigger" not in everything  # a finished run does not poll
    fragment = client.get(url("tenant_integration_run_progress", connection, syncrun_id=run.pk))
    assert "1 created" in fragment.content.decode()


def test_members_may_not_manage_integrations(verified_client, member_user, connection):
    client = verified_client(member_user)
    assert client.get(url("tenant_integration", connection)).status_code == 403
    assert client.post(url("tenant_integration_sync", connection)).status_code == 403


def test_operators_see_connections_and_runs_in_the_admin_without_the_tokens(
    client, operator, active_connection
):
    from tests.factories import totp_device

    device = totp_device(operator)
    client.force_login(operator, backend="accounts.request_cache.CachedModelBackend")
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    with scopes_disabled():
        run = sync_run_create(active_connection.tenant)
    change = client.get(f"/admin/integrations/connection/{active_connection.pk}/change/")
    assert change.status_code == 200
    assert "access_token_encrypted" not in change.content.decode()
    assert client.get("/admin/integrations/connection/").status_code == 200
    assert client.get(f"/admin/integrations/syncrun/{run.pk}/change/").status_code == 200


def test_the_connection_page_shows_blocked_entity_types_and_unverified_records(
    verified_client, tenant_admin, active_connection, world
):
    from integrations.runs import sync_run_execute, sync_run_start

    world.local.add("customer", "1001", "Acme Oy")
    world.local.add("product", "300", "Consulting")
    world.system.unlicensed = {"product"}
    world.system.ambiguous_creates = ["failed"]
    with scope(tenant=active_connection.tenant_id):
        run = sync_run_start(connection=active_connection, trigger="manual", actor=None)
        run = sync_run_execute(run=run)
    assert run.counts["unverified"] == 1 and run.counts["blocked"] == 1

    html = (
        verified_client(tenant_admin).get(url("tenant_integration", active_connection)).content
    ).decode()

    assert "Blocked by the accounting system" in html
    assert "module is not licensed or not authorised for this connection" in html
    assert "Unverified records" in html
    assert "customer 1001 Acme Oy" in html


def test_the_run_history_is_paged_and_filtered_by_status_and_trigger(
    verified_client, tenant_admin, connection
):
    import datetime

    base = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
    with scopes_disabled():
        runs = [
            SyncRun.objects.create(
                tenant=connection.tenant,
                connection=connection,
                trigger="scheduled" if number % 5 else "manual",
                status=SyncRunStatus.FAILED if number % 4 == 0 else SyncRunStatus.SUCCEEDED,
                created_at=base + datetime.timedelta(minutes=15 * number),
            )
            for number in range(45)
        ]
    client = verified_client(tenant_admin)
    page = url("tenant_integration", connection)

    def shown(response) -> set[int]:
        html = response.content.decode()
        return {run.pk for run in runs if f'/runs/{run.pk}/">' in html}

    first = client.get(page)
    assert shown(first) == {run.pk for run in runs[25:]}  # the newest 20
    assert "Page 1 of 3" in first.content.decode()
    assert shown(client.get(page, {"page": 3})) == {run.pk for run in runs[:5]}
    failed = client.get(page, {"status": "failed"})
    assert shown(failed) == {run.pk for run in runs if run.status == SyncRunStatus.FAILED}
    manual_failed = client.get(page, {"status": "failed", "trigger": "manual"})
    # Runs 0, 20 and 40 are both manual and failed.
    assert shown(manual_failed) == {runs[0].pk, runs[20].pk, runs[40].pk}
    assert 'href="?status=failed&amp;trigger=manual&amp;page=' not in manual_failed.content.decode()
    succeeded = client.get(page, {"status": "succeeded"})
    assert "?status=succeeded&amp;page=2" in succeeded.content.decode()


def test_pause_and_resume_in_the_browser(verified_client, tenant_admin, active_connection):
    client = verified_client(tenant_admin)
    page = url("tenant_integration", active_connection)
    assert url("tenant_integration_pause", active_connection) in client.get(page).content.decode()
    assert client.get(url("tenant_integration_pause", active_connection)).status_code == 405

    response = client.post(url("tenant_integration_pause", active_connection), follow=True)

    active_connection.refresh_from_db()
    assert active_connection.status == "paused"
    assert active_connection.status_reason == "Paused by the company."
    html = response.content.decode()
    assert "The connection is paused: nothing syncs until you resume it." in html
    assert url("tenant_integration_resume", active_connection) in html
    client.post(url("tenant_integration_resume", active_connection))
    active_connection.refresh_from_db()
    assert active_connection.status == "active"
