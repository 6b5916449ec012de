"""The connections API for eEkonomi: `system: "visma_eekonomi"`, the order-reference setting,
and the transfer log of a run."""

import pytest
from django_scopes import scopes_disabled
from rest_framework.test import APIClient

from accounts.services import api_token_create
from integrations.models import Connection
from tests.factories import CustomerAddressFactory, CustomerFactory, connection_create_for
from tests.integrations.fortnox.sync_helpers import sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin):
    _token, key = api_token_create(user=admin)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_an_eekonomi_connection_with_its_order_reference_setting(api, swedish_tenant):
    with scopes_disabled():
        # The interface is part of the subscription (what the factory sets up).
        connection_create_for(swedish_tenant, system="visma_eekonomi").delete()
    base = f"/api/v1/tenants/{swedish_tenant.pk}/connections"

    created = api.post(
        base,
        {"system": "visma_eekonomi", "settings": {"order_reference_to": "note"}},
        format="json",
    )

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["system"] == "visma_eekonomi"
    assert body["settings"]["order_reference_to"] == "note"
    refused = api.patch(
        f"{base}/{body['id']}", {"settings": {"order_reference_to": "memo"}}, format="json"
    )
    assert refused.status_code == 400
    with scopes_disabled():
        assert Connection.objects.get(pk=body["id"]).order_reference_to == "note"


def test_a_runs_transfers_through_the_api(api, make_connection, swedish_tenant):
    with scopes_disabled():
        customer = CustomerFactory(
            tenant=swedish_tenant,
            number="100",
            name="Kund AB",
            vat_number="",
            organisation_number="",
        )
        CustomerAddressFactory(customer=customer, country="SE", postal_code="11122")
    connection = make_connection()
    run = sync(connection)
    base = f"/api/v1/tenants/{swedish_tenant.pk}/connections/{connection.pk}"

    runs = api.get(f"{base}/runs").json()["results"]
    created = api.get(f"{base}/runs/{run.pk}/transfers", {"outcome": "created"}).json()

    assert [row["id"] for row in runs] == [run.pk]
    assert [(row["entity_type"], row["label"]) for row in created["results"]] == [
        ("customer", "100 Kund AB")
    ]
