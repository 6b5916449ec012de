"""End to end through the pages: a Swedish tenant with the eEkonomi interface connects
through the fake Visma Online consent page, the first sync runs, and the transfer log and
the set-up hint read in Swedish."""

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from integrations.models import Connection, ConnectionStatus, SyncRun, SyncRunStatus
from integrations.runs import sync_run_execute
from tests.factories import CustomerAddressFactory, CustomerFactory, connection_create_for

pytestmark = pytest.mark.django_db


def test_connect_through_the_consent_page_sync_and_read_the_log_in_swedish(
    verified_client,
    swedish_tenant,
    admin,
    statuses,
    real_records,
    eaccounting_settings,
    fake,
    django_capture_on_commit_callbacks,
):
    with scopes_disabled():
        connection = connection_create_for(
            swedish_tenant,
            system="visma_eekonomi",
            send_status_id=statuses["Send"].pk,
            received_status_id=statuses["In eEkonomi"].pk,
            transfer_all_customers=True,
        )
        customer = CustomerFactory(
            tenant=swedish_tenant,
            number="1001",
            name="Acme AB",
            vat_number="",
            organisation_number="",
        )
        CustomerAddressFactory(customer=customer, country="SE", postal_code="11122")
        CustomerFactory(
            tenant=swedish_tenant,
            number="1002",
            name="Adresslös AB",
            vat_number="",
            organisation_number="",
        )
    client = verified_client(admin)
    client.cookies["django_language"] = "sv"
    pages = {"tenant_id": swedish_tenant.pk, "connection_id": connection.pk}

    page = client.get(reverse("tenant_integration", kwargs=pages)).content.decode()
    assert "Öppna kugghjulet (Inställningar) → Dataöverföring i eEkonomi" in page
    assert "Var orderreferensen hamnar" in page  # the eEkonomi-only setting, in Swedish

    response = client.post(reverse("tenant_integration_connect", kwargs=pages))
    assert response.status_code == 302
    consent = response["Location"]
    assert consent.startswith(eaccounting_settings.EACCOUNTING_AUTH_URL)
    query = parse_qs(urlparse(consent).query)
    assert {"ea:api", "offline_access", "ea:sales"} <= set(query["scope"][0].split())
    assert query["prompt"] == ["login"]
    # The consent page: sign in, pick the company, approve.
    shown = requests.get(consent, timeout=5)
    assert shown.status_code == 200 and "Approve" in shown.text
    approved = requests.post(
        consent.split("?")[0],
        data={**{key: values[0] for key, values in query.items()}, "approve": "yes"},
        allow_redirects=False,
        timeout=5,
    )
    assert approved.status_code == 302
    callback = urlparse(approved.headers["Location"])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.get(callback.path, parse_qs(callback.query))
    assert response.status_code == 302
    with scope(tenant=swedish_tenant.pk):
        assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.ACTIVE
        run = sync_run_execute(run=SyncRun.objects.get(connection=connection))
    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert [c["CustomerNumber"] for c in fake.company().records["customers"].values()] == ["1001"]

    log = client.get(
        reverse("tenant_integration_run", kwargs={**pages, "syncrun_id": run.pk})
    ).content.decode()
    assert "1001 Acme AB" in log
    assert "1002 Adresslös AB" in log
    assert "eEkonomi kräver en fakturaadress med postnummer och ort." in log


@pytest.mark.parametrize(
    ("language", "hint"),
    [
        ("en", "In eEkonomi, open the gear (Settings) → Dataöverföring (Data transfer)"),
        ("fi", "Avaa eEkonomissa ratas (Asetukset) → Dataöverföring"),
        ("nb", "Åpne tannhjulet (Innstillinger) → Dataöverföring"),
    ],
)
def test_the_data_transfer_hint_reads_in_the_users_language(
    verified_client, swedish_tenant, admin, statuses, real_records, language, hint
):
    with scopes_disabled():
        connection = connection_create_for(swedish_tenant, system="visma_eekonomi")
    client = verified_client(admin)
    client.cookies["django_language"] = language
    page = client.get(
        reverse(
            "tenant_integration",
            kwargs={"tenant_id": swedish_tenant.pk, "connection_id": connection.pk},
        )
    ).content.decode()
    assert hint in page
