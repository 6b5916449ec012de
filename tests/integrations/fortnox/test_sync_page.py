"""End to end through the pages: a tenant with the Fortnox interface connects through the
OAuth flow against the fake (its consent page approves at once), the first sync runs, and
the transfer log shows what happened."""

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.test import Client
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from integrations.models import Connection, ConnectionStatus, SyncRun, SyncRunStatus
from integrations.runs import sync_run_execute
from tests.factories import CustomerAddressFactory, CustomerFactory, connection_create_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """The browser (the Fortnox tests' `client` is an API client)."""
    return Client()


def test_connect_sync_and_read_the_transfer_log(
    verified_client,
    tenant,
    admin,
    statuses,
    real_records,
    fortnox_settings,
    fake,
    django_capture_on_commit_callbacks,
):
    with scopes_disabled():
        connection = connection_create_for(
            tenant,
            send_status_id=statuses["Send to Fortnox"].pk,
            received_status_id=statuses["In Fortnox"].pk,
            transfer_all_customers=True,
        )
        acme = CustomerFactory(tenant=tenant, number="1001", name="Acme Oy")
        CustomerAddressFactory(customer=acme)
        CustomerFactory(tenant=tenant, number="1002", name="Addressless Oy")
    client = verified_client(admin)
    pages = {"tenant_id": tenant.pk, "connection_id": connection.pk}

    # "Connect" sends the administrator to Fortnox's consent page…
    response = client.post(reverse("tenant_integration_connect", kwargs=pages))
    assert response.status_code == 302
    consent = response["Location"]
    assert consent.startswith(fortnox_settings.FORTNOX_AUTH_URL)
    scopes = parse_qs(urlparse(consent).query)["scope"][0].split()
    assert {"customer", "article", "project", "invoice", "supplierinvoice"} <= set(scopes)
    # …which approves and sends them back with a code.
    approved = requests.get(consent, allow_redirects=False, timeout=5)
    assert approved.status_code == 302
    callback = urlparse(approved.headers["Location"])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.get(callback.path, parse_qs(callback.query))
    assert response.status_code == 302
    with scope(tenant=tenant.pk):
        assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.ACTIVE
        run = SyncRun.objects.get(connection=connection)
        run = sync_run_execute(run=run)  # what the worker does with the queued run
    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert set(fake.company().records["customers"]) == {"1001"}

    page = client.get(
        reverse("tenant_integration_run", kwargs={**pages, "syncrun_id": run.pk})
    ).content.decode()
    assert "1001 Acme Oy" in page
    assert "Created" in page
    assert "1002 Addressless Oy" in page
    assert "Fortnox needs an invoice, postal or office address for the customer." in page
    skipped = client.get(
        reverse("tenant_integration_run", kwargs={**pages, "syncrun_id": run.pk}),
        {"outcome": "skipped"},
    ).content.decode()
    assert "Addressless" in skipped
    assert "Acme" not in skipped
