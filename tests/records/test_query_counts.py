"""The lists of business records take as many queries for many records as for one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from accounts.services import api_token_create
from records.models import InvoiceStatus
from tests.factories import (
    CustomerAddressFactory,
    CustomerContactFactory,
    CustomerInvoiceRowFactory,
    ProductFactory,
    ProjectFeeFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db


def _add_records(tenant) -> None:
    with scopes_disabled():
        address = CustomerAddressFactory(customer__tenant=tenant)
        CustomerContactFactory(customer=address.customer, tenant=tenant)
        row = CustomerInvoiceRowFactory(invoice__customer__tenant=tenant)
        CustomerInvoiceRowFactory(invoice=row.invoice, tenant=tenant, position=2)
        ProjectFeeFactory(project__customer__tenant=tenant)
        ProductFactory(tenant=tenant, unit=UnitFactory(tenant=tenant))


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tenants/{tenant}/customers",
        "/api/v1/tenants/{tenant}/customer-invoices",
        "/api/v1/tenants/{tenant}/project-fees",
        "/api/v1/tenants/{tenant}/products",
        "/t/{tenant}/records/customer-invoices/",
        "/t/{tenant}/records/project-fees/",
        "/t/{tenant}/records/products/",
        "/t/{tenant}/records/projects/",
    ],
)
def test_list_query_counts_are_flat(client, verified_client, admin_user, tenant, path):
    path = path.format(tenant=tenant.pk)
    if path.startswith("/api/"):
        _token, key = api_token_create(user=admin_user)
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    else:
        client = verified_client(admin_user)
    _add_records(tenant)
    _queries(client, path)  # the first request also records the sign-in and the token's use
    one = _queries(client, path)
    for _ in range(4):
        _add_records(tenant)
    assert _queries(client, path) == one


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tenants/{tenant}/invoice-statuses",
        "/t/{tenant}/records/invoice-statuses/",
        "/t/{tenant}/records/customer-invoices/new/",
    ],
)
def test_reading_the_invoice_statuses_writes_nothing(
    client, verified_client, admin_user, tenant, path
):
    path = path.format(tenant=tenant.pk)
    if path.startswith("/api/"):
        _token, key = api_token_create(user=admin_user)
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    else:
        client = verified_client(admin_user)
    with scopes_disabled():
        statuses = list(InvoiceStatus.objects.filter(tenant=tenant).values_list("pk", "name"))
    assert [name for _pk, name in statuses] == ["Draft", "Ready to send", "Sent", "Paid"]
    assert client.get(path).status_code == 200  # records the sign-in and the token's use
    with CaptureQueriesContext(connection) as queries:
        page = client.get(path)
    assert page.status_code == 200
    assert "Ready to send" in page.content.decode()
    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().split(" ", 1)[0] in {"INSERT", "UPDATE", "DELETE"}
        or "FOR UPDATE" in query["sql"]
    ]
    assert writes == []
    with scopes_disabled():
        assert list(InvoiceStatus.objects.filter(tenant=tenant).values_list("pk", "name")) == (
            statuses
        )
