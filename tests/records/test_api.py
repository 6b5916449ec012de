"""Business records in the API: list, create, retrieve and update, nested addresses,
contacts and invoice rows, the error format, roles and tenancy."""

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from accounts.services import api_token_create
from accounts.tenancy import tenant_scope
from records.models import Customer, CustomerInvoice, Product
from tests.factories import (
    CustomerFactory,
    CustomerInvoiceFactory,
    ProductFactory,
    ProjectFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db


def _api(client, user):
    _token, key = api_token_create(user=user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


@pytest.fixture
def api(client, admin_user):
    return _api(client, admin_user)


def test_a_customer_is_created_with_addresses_and_contacts_and_read_back(api, tenant):
    response = api.post(
        f"/api/v1/tenants/{tenant.pk}/customers",
        {
            "number": "5001",
            "name": "Nokia Oyj",
            "vat_number": "15728600",
            "addresses": [
                {
                    "kind": "invoice",
                    "street": "Karakaari 7",
                    "postal_code": "02610",
                    "city": "Espoo",
                    "country": "FI",
                }
            ],
            "contacts": [{"first_name": "Anna", "last_name": "Ahde", "email": "anna@x.test"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["vat_number"] == "FI15728600"
    assert [address["city"] for address in body["addresses"]] == ["Espoo"]
    assert [contact["last_name"] for contact in body["contacts"]] == ["Ahde"]
    listed = api.get(f"/api/v1/tenants/{tenant.pk}/customers").json()
    assert listed["count"] == 1
    assert listed["results"][0]["id"] == body["id"]
    one = api.get(f"/api/v1/tenants/{tenant.pk}/customers/{body['id']}").json()
    assert one == body


def test_a_refused_customer_answers_400_per_field_and_saves_nothing(api, tenant):
    response = api.post(
        f"/api/v1/tenants/{tenant.pk}/customers",
        {"name": "Bad Oy", "vat_number": "FI15728601", "addresses": [{"kind": "office"}]},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("invalid", "The request is not valid.")
    assert set(error["fields"]) == {"vat_number", "addresses[0].country", "addresses[0].street"}
    with tenant_scope(tenant):
        assert Customer.objects.count() == 0


def test_a_product_is_patched_and_a_non_numeric_code_refused(api, tenant):
    with scopes_disabled():
        product = ProductFactory(tenant=tenant, code="1001", name="Design")
        unit = UnitFactory(tenant=tenant, code="h")
    url = f"/api/v1/tenants/{tenant.pk}/products/{product.pk}"
    response = api.patch(
        url, {"unit_id": unit.pk, "price": "99.90"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert (response.json()["unit_id"], response.json()["price"], response.json()["code"]) == (
        unit.pk,
        "99.90",
        "1001",
    )
    refused = api.patch(url, {"code": "A-1"}, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {
        "code": ["A product code is digits only, e.g. 1001."]
    }
    with tenant_scope(tenant):
        assert Product.objects.get().code == "1001"


def test_an_id_of_another_tenants_record_is_a_400_on_that_field(api, tenant, other_tenant):
    with scopes_disabled():
        foreign_customer = CustomerFactory(tenant=other_tenant)
    response = api.post(
        f"/api/v1/tenants/{tenant.pk}/projects",
        {"number": "P1", "name": "Web", "customer_id": foreign_customer.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"customer_id": ["No such customer."]}


def test_another_tenants_records_are_not_found(api, tenant, other_tenant):
    with scopes_disabled():
        foreign_invoice = CustomerInvoiceFactory(customer__tenant=other_tenant)
    assert api.get(f"/api/v1/tenants/{other_tenant.pk}/customer-invoices").status_code == 404
    own_path = f"/api/v1/tenants/{tenant.pk}/customer-invoices/{foreign_invoice.pk}"
    assert api.get(own_path).status_code == 404
    assert api.patch(own_path, {}, content_type="application/json").status_code == 404


def test_an_invoice_is_created_with_rows_totals_and_an_idempotency_key(api, tenant):
    with scopes_disabled():
        customer = CustomerFactory(tenant=tenant)
        project = ProjectFactory(customer=customer, tenant=tenant)
        product = ProductFactory(tenant=tenant, price=Decimal("80.00"), vat_rate=Decimal("25.50"))
    payload = {
        "number": "1001",
        "customer_id": customer.pk,
        "project_id": project.pk,
        "invoice_date": "2026-03-02",
        "due_date": "2026-03-16",
        "rows": [
            {"product_id": product.pk, "quantity": "3"},
            {"description": "Travel", "quantity": "1", "unit_price": "12.40", "vat_rate": "0"},
        ],
    }
    url = f"/api/v1/tenants/{tenant.pk}/customer-invoices"
    headers = {"HTTP_IDEMPOTENCY_KEY": "invoice-1001"}
    response = api.post(url, payload, content_type="application/json", **headers)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [row["net"] for row in body["rows"]] == ["240.00", "12.40"]
    assert body["totals"] == {
        "net": "252.40",
        "vat": "61.20",
        "total": "313.60",
        "by_rate": [
            {"vat_rate": "0.00", "net": "12.40", "vat": "0.00"},
            {"vat_rate": "25.50", "net": "240.00", "vat": "61.20"},
        ],
    }
    replay = api.post(url, payload, content_type="application/json", **headers)
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == body
    with tenant_scope(tenant):
        assert CustomerInvoice.objects.count() == 1
    statuses = api.get(f"/api/v1/tenants/{tenant.pk}/invoice-statuses").json()["results"]
    assert [status["name"] for status in statuses] == ["Draft", "Ready to send", "Sent", "Paid"]
    assert body["status_id"] == statuses[0]["id"]
    moved = api.patch(
        f"{url}/{body['id']}", {"status_id": statuses[2]["id"]}, content_type="application/json"
    )
    assert moved.status_code == 200
    assert moved.json()["status_id"] == statuses[2]["id"]
    assert len(moved.json()["rows"]) == 2


def test_a_project_fee_is_created_and_replaced(api, tenant):
    with scopes_disabled():
        project = ProjectFactory(customer__tenant=tenant)
    url = f"/api/v1/tenants/{tenant.pk}/project-fees"
    created = api.post(
        url,
        {
            "project_id": project.pk,
            "description": "Hotel",
            "date": "2026-03-02",
            "quantity": "2",
            "unit_cost": "120.00",
            "unit_price": "150.00",
            "is_billable": False,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    fee = created.json()
    assert (fee["is_billable"], fee["unit_cost"]) == (False, "120.00")
    replaced = api.put(
        f"{url}/{fee['id']}",
        {"project_id": project.pk, "description": "Flight", "date": "2026-03-03"},
        content_type="application/json",
    )
    assert replaced.status_code == 200, replaced.json()
    assert (replaced.json()["description"], replaced.json()["date"]) == ("Flight", "2026-03-03")


@pytest.mark.parametrize(
    "resource", ["business-units", "cost-centres", "units", "invoice-statuses"]
)
def test_the_organisation_lists_are_created_and_updated(api, tenant, resource):
    url = f"/api/v1/tenants/{tenant.pk}/{resource}"
    created = api.post(url, {"code": "10", "name": "Sales"}, content_type="application/json")
    assert created.status_code == 201, created.json()
    updated = api.patch(
        f"{url}/{created.json()['id']}", {"name": "Sales team"}, content_type="application/json"
    )
    assert (updated.status_code, updated.json()["name"]) == (200, "Sales team")
    if resource != "invoice-statuses":
        duplicate = api.post(url, {"code": "10", "name": "Other"}, content_type="application/json")
        assert duplicate.status_code == 400
        assert list(duplicate.json()["error"]["fields"]) == ["code"]


def test_a_member_reads_but_cannot_write(client, member_user, tenant):
    api = _api(client, member_user)
    with scopes_disabled():
        customer = CustomerFactory(tenant=tenant)
    assert api.get(f"/api/v1/tenants/{tenant.pk}/customers").status_code == 200
    refused = api.post(
        f"/api/v1/tenants/{tenant.pk}/customers", {"name": "X"}, content_type="application/json"
    )
    assert refused.status_code == 403
    patched = api.patch(
        f"/api/v1/tenants/{tenant.pk}/customers/{customer.pk}",
        {"name": "X"},
        content_type="application/json",
    )
    assert patched.status_code == 403
    with tenant_scope(tenant):
        assert list(Customer.objects.values_list("name", flat=True)) == [customer.name]


def test_the_records_are_in_the_api_schema(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    for path in (
        "/api/v1/tenants/{tenant_id}/customers",
        "/api/v1/tenants/{tenant_id}/customers/{customer_id}",
        "/api/v1/tenants/{tenant_id}/customer-invoices/{customerinvoice_id}",
        "/api/v1/tenants/{tenant_id}/project-fees",
        "/api/v1/tenants/{tenant_id}/employees",
    ):
        assert path in schema["paths"]
