"""The connections API: create, settings, service-account authorisation, sync (409 while
running), runs and transfers."""

import pytest
from django_scopes import scopes_disabled
from rest_framework.test import APIClient

from accounts.services import api_token_create
from integrations.models import Connection, SyncRun
from tests.factories import sync_run_create, transfer_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(tenant_admin):
    _token, key = api_token_create(user=tenant_admin)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def base(tenant_id):
    return f"/api/v1/tenants/{tenant_id}/connections"


def test_create_list_and_patch_a_connection(api, tenant, connection):
    with scopes_disabled():
        Connection.objects.all().delete()
    created = api.post(
        base(tenant.pk),
        {"system": "fortnox", "settings": {"send_status_id": 11, "customers_master": "remote"}},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft"
    assert body["settings"]["send_status_id"] == 11
    assert body["settings"]["customers_master"] == "remote"
    assert body["is_authorized"] is False
    assert "access_token" not in str(body)

    listed = api.get(base(tenant.pk)).json()
    assert [row["system"] for row in listed["results"]] == ["fortnox"]

    patched = api.patch(
        f"{base(tenant.pk)}/{body['id']}",
        {"settings": {"received_status_id": 12, "error_emails": ["erp@example.test"]}},
        format="json",
    )
    assert patched.status_code == 200
    assert patched.json()["settings"]["received_status_id"] == 12
    assert patched.json()["settings"]["send_status_id"] == 11

    refused = api.patch(
        f"{base(tenant.pk)}/{body['id']}", {"settings": {"paid_status_id": 99}}, format="json"
    )
    assert refused.status_code == 400
    assert "paid_status_id" in refused.json()["error"]["fields"]


def test_a_connection_without_its_interface_is_refused(api, tenant, connection):
    refused = api.post(base(tenant.pk), {"system": "visma_net"}, format="json")
    assert refused.status_code == 400
    assert "system" in refused.json()["error"]["fields"]


def test_service_account_authorisation_then_sync_and_409_while_running(
    api, tenant, connection, world
):
    authorized = api.post(
        f"{base(tenant.pk)}/{connection.pk}/authorize", {"remote_tenant_id": "T-7"}, format="json"
    )
    assert authorized.status_code == 200, authorized.json()
    assert authorized.json()["status"] == "active"
    assert authorized.json()["auth_kind"] == "client_credentials"

    started = api.post(f"{base(tenant.pk)}/{connection.pk}/sync")
    assert started.status_code == 202
    run_id = started.json()["id"]
    assert started.json()["status"] == "queued"

    busy = api.post(f"{base(tenant.pk)}/{connection.pk}/sync")
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "sync_running"
    with scopes_disabled():
        assert SyncRun.objects.filter(connection=connection).count() == 1

    runs = api.get(f"{base(tenant.pk)}/{connection.pk}/runs").json()
    assert [run["id"] for run in runs["results"]] == [run_id]


def test_authorize_is_refused_before_the_statuses_are_chosen(api, tenant, connection, world):
    with scopes_disabled():
        Connection.objects.filter(pk=connection.pk).update(received_status_id=None)
    refused = api.post(
        f"{base(tenant.pk)}/{connection.pk}/authorize", {"remote_tenant_id": "T-7"}, format="json"
    )
    assert refused.status_code == 400
    assert "received_status_id" in refused.json()["error"]["fields"]
    with scopes_disabled():
        connection.refresh_from_db()
    assert connection.status == "draft"


def test_transfers_of_a_run_filtered_by_outcome(api, tenant, connection):
    with scopes_disabled():
        run = sync_run_create(tenant)
        transfer_create(tenant, run=run, label="1001 Acme Oy", outcome="created")
        transfer_create(tenant, run=run, label="1002 Bad Oy", outcome="failed", reason="No VAT")
    path = f"{base(tenant.pk)}/{connection.pk}/runs/{run.pk}/transfers"
    every = api.get(path).json()["results"]
    failed = api.get(path, {"outcome": "failed"}).json()["results"]
    assert [row["label"] for row in every] == ["1001 Acme Oy", "1002 Bad Oy"]
    assert [(row["label"], row["reason"]) for row in failed] == [("1002 Bad Oy", "No VAT")]
    assert api.get(path, {"outcome": "nonsense"}).status_code == 400


def test_another_tenants_connection_is_not_found(api, other_tenant):
    from tests.factories import connection_create_for

    with scopes_disabled():
        foreign = connection_create_for(other_tenant)
    assert api.get(f"{base(other_tenant.pk)}/{foreign.pk}").status_code == 404
