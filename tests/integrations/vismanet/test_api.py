"""The segments API of a Visma.net ERP connection, and its transfer log through the API."""

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled
from rest_framework.test import APIClient

from accounts.services import api_token_create
from tests.factories import BusinessUnitFactory, CustomerInvoiceFactory, CustomerInvoiceRowFactory
from tests.integrations.vismanet.conftest import sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin):
    _token, key = api_token_create(user=admin)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_segments_are_mapped_through_the_api_and_the_log_read(
    api, kit, connection, tenant, statuses, customer
):
    kit.fake.segment_add(1, "Avdeling", length=2)
    kit.fake.segment_value_add(1, "10", "Oslo")
    with scopes_disabled():
        oslo = BusinessUnitFactory(tenant=tenant, code="OSL", name="Oslo")
        invoice = CustomerInvoiceFactory(
            tenant=tenant, customer=customer, status=statuses["Send"], currency="NOK"
        )
        CustomerInvoiceRowFactory(invoice=invoice, business_unit=oslo, vat_rate=Decimal(25))
    url = f"/api/v1/tenants/{tenant.pk}/connections/{connection.pk}/segments"

    refused = api.put(
        url,
        {
            "department_segment": 1,
            "cost_centre_segment": None,
            "business_units": {str(oslo.pk): "99"},
        },
        format="json",
    )
    saved = api.put(
        url,
        {
            "department_segment": 1,
            "cost_centre_segment": None,
            "business_units": {str(oslo.pk): "10"},
        },
        format="json",
    )

    assert refused.status_code == 400
    assert "business_units" in refused.json()["error"]["fields"]
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["department_segment"] == 1
    assert body["segments"][0]["values"][0]["value_id"] == "10"
    assert body["business_units"] == [
        {"id": oslo.pk, "label": "OSL Oslo", "value": "10", "broken": False}
    ]

    run = sync(connection)
    transfers = api.get(
        f"/api/v1/tenants/{tenant.pk}/connections/{connection.pk}/runs/{run.pk}/transfers"
    ).json()
    assert any(row["entity_type"] == "invoice" for row in transfers["results"])
    connections = api.get(f"/api/v1/tenants/{tenant.pk}/connections").json()
    assert [row["system"] for row in connections["results"]] == ["visma_net"]
