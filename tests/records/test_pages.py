"""Business records pages: lists for everyone of the tenant, create and edit for admins."""

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from accounts.tenancy import tenant_scope
from records.models import Customer, CustomerInvoice, Employee, InvoiceStatus, Product
from tests.factories import (
    CustomerFactory,
    CustomerInvoiceAttachmentFactory,
    CustomerInvoiceFactory,
    CustomerInvoiceRowFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


def _management(prefix: str, total: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_the_navigation_links_to_business_records_and_every_list_opens(
    verified_client, admin_user, tenant
):
    client = verified_client(admin_user)
    home = client.get(f"/t/{tenant.pk}/records/")
    assert home.status_code == 200
    assert f'href="/t/{tenant.pk}/records/"' in home.content.decode()
    for slug in (
        "customers",
        "projects",
        "customer-invoices",
        "project-fees",
        "products",
        "units",
        "business-units",
        "cost-centres",
        "employees",
        "invoice-statuses",
    ):
        assert client.get(f"/t/{tenant.pk}/records/{slug}/").status_code == 200
        assert client.get(f"/t/{tenant.pk}/records/{slug}/new/").status_code == 200


def test_a_member_reads_the_lists_but_cannot_create_or_edit(verified_client, member_user, tenant):
    with scopes_disabled():
        product = ProductFactory(tenant=tenant, name="Design work")
    client = verified_client(member_user)
    page = client.get(f"/t/{tenant.pk}/records/products/")
    assert page.status_code == 200
    assert "Design work" in page.content.decode()
    assert "/records/products/new/" not in page.content.decode()
    assert client.get(f"/t/{tenant.pk}/records/products/new/").status_code == 403
    refused = client.post(f"/t/{tenant.pk}/records/products/{product.pk}/", {"name": "X"})
    assert refused.status_code == 403
    with scopes_disabled():
        product.refresh_from_db()
    assert product.name == "Design work"


def test_a_product_is_created_and_a_letter_in_its_code_is_refused(
    verified_client, admin_user, tenant
):
    client = verified_client(admin_user)
    refused = client.post(
        f"/t/{tenant.pk}/records/products/new/",
        {"kind": "work_type", "code": "12a", "name": "Design", "price": "90", "vat_rate": "25.5"},
    )
    assert refused.status_code == 200
    assert "A product code is digits only, e.g. 1001." in refused.content.decode()
    created = client.post(
        f"/t/{tenant.pk}/records/products/new/",
        {"kind": "work_type", "code": "1001", "name": "Design", "price": "90", "vat_rate": "25.5"},
    )
    with tenant_scope(tenant):
        product = Product.objects.get()
    assert created.status_code == 302
    assert created["Location"] == f"/t/{tenant.pk}/records/products/{product.pk}/"
    assert (product.code, product.price, product.vat_rate) == (
        "1001",
        Decimal("90.00"),
        Decimal("25.50"),
    )


def test_a_customer_is_created_with_an_address_and_edited(verified_client, admin_user, tenant):
    client = verified_client(admin_user)
    form = {
        "number": "5001",
        "name": "Nokia Oyj",
        "kind": "company",
        "vat_number": "FI15728600",
        "organisation_number": "1572860-0",
        "is_active": "on",
        **_management("addresses", 2),
        "addresses-0-kind": "invoice",
        "addresses-0-street": "Karakaari 7",
        "addresses-0-postal_code": "02610",
        "addresses-0-city": "Espoo",
        "addresses-0-country": "FI",
        "addresses-1-kind": "",
        **_management("contacts", 0),
    }
    response = client.post(f"/t/{tenant.pk}/records/customers/new/", form)
    assert response.status_code == 302
    with tenant_scope(tenant):
        customer = Customer.objects.get()
        assert [str(address) for address in customer.addresses.all()] == [
            "Karakaari 7, 02610 Espoo"
        ]
    page = client.get(f"/t/{tenant.pk}/records/customers/{customer.pk}/")
    assert 'value="Karakaari 7"' in page.content.decode()
    edit = {
        **form,
        "name": "Nokia Oyj (Espoo)",
        "addresses-0-postal_code": "0261",
        "addresses-INITIAL_FORMS": "1",
    }
    refused = client.post(f"/t/{tenant.pk}/records/customers/{customer.pk}/", edit)
    assert refused.status_code == 200
    assert "Addresses 1, postal code: Invalid length" in refused.content.decode()
    with tenant_scope(tenant):
        customer.refresh_from_db()
        assert customer.name == "Nokia Oyj"
    edit["addresses-0-postal_code"] = "02610"
    assert client.post(f"/t/{tenant.pk}/records/customers/{customer.pk}/", edit).status_code == 302
    with tenant_scope(tenant):
        customer.refresh_from_db()
        assert customer.name == "Nokia Oyj (Espoo)"
        assert customer.addresses.count() == 1
    edit["addresses-0-DELETE"] = "on"
    assert client.post(f"/t/{tenant.pk}/records/customers/{customer.pk}/", edit).status_code == 302
    with tenant_scope(tenant):
        assert customer.addresses.count() == 0


def test_the_new_invoice_page_offers_the_default_statuses(verified_client, admin_user, tenant):
    page = verified_client(admin_user).get(f"/t/{tenant.pk}/records/customer-invoices/new/")
    with tenant_scope(tenant):
        statuses = list(InvoiceStatus.objects.all())
    assert [status.name for status in statuses] == ["Draft", "Ready to send", "Sent", "Paid"]
    assert f'<option value="{statuses[0].pk}">Draft</option>' in page.content.decode()


def test_an_invoice_is_created_with_rows_and_shows_its_totals(verified_client, admin_user, tenant):
    with scopes_disabled():
        customer = CustomerFactory(tenant=tenant)
        product = ProductFactory(tenant=tenant, price=Decimal("80.00"), vat_rate=Decimal("25.50"))
    client = verified_client(admin_user)
    response = client.post(
        f"/t/{tenant.pk}/records/customer-invoices/new/",
        {
            "number": "1001",
            "customer": str(customer.pk),
            "invoice_date": "2026-03-02",
            "currency": "EUR",
            **_management("rows", 2),
            "rows-0-product": str(product.pk),
            "rows-0-quantity": "3",
            "rows-1-description": "Travel",
            "rows-1-quantity": "1",
            "rows-1-unit_price": "12.40",
            "rows-1-vat_rate": "0",
        },
    )
    assert response.status_code == 302
    with tenant_scope(tenant):
        invoice = CustomerInvoice.objects.get()
        assert invoice.status == InvoiceStatus.objects.get(name="Draft")
    page = client.get(response["Location"]).content.decode()
    assert "€252.40" in page  # 240.00 + 12.40 net
    assert "€61.20" in page  # 25.5 % of 240.00
    assert "€313.60" in page


def test_a_customer_of_another_tenant_cannot_be_chosen(
    verified_client, admin_user, tenant, other_tenant
):
    with scopes_disabled():
        foreign = CustomerFactory(tenant=other_tenant)
    response = verified_client(admin_user).post(
        f"/t/{tenant.pk}/records/projects/new/",
        {"number": "P1", "name": "Web", "customer": str(foreign.pk), "sales_status": "won"},
    )
    assert response.status_code == 200
    assert "Choose one of the options in the list." in response.content.decode()


def test_employees_are_created_from_the_users(verified_client, admin_user, member_user, tenant):
    client = verified_client(admin_user)
    response = client.post(f"/t/{tenant.pk}/records/employees/from-users/")
    assert response.status_code == 302
    with tenant_scope(tenant):
        assert set(Employee.objects.values_list("user_id", flat=True)) == {
            admin_user.pk,
            member_user.pk,
        }


def test_an_attachment_is_uploaded_and_downloaded_as_a_file(verified_client, admin_user, tenant):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with scopes_disabled():
        invoice = CustomerInvoiceFactory(customer__tenant=tenant)
        CustomerInvoiceRowFactory(invoice=invoice)
    client = verified_client(admin_user)
    upload = SimpleUploadedFile("<b>hours</b>.html", b"<script>x</script>", "text/html")
    response = client.post(
        f"/t/{tenant.pk}/records/customer-invoices/{invoice.pk}/attachments/", {"file": upload}
    )
    assert response.status_code == 302
    with scopes_disabled():
        attachment = invoice.attachments.get()
    download = client.get(
        f"/t/{tenant.pk}/records/customer-invoices/{invoice.pk}/attachments/{attachment.pk}/"
    )
    assert download.content == b"<script>x</script>"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_an_attachment_is_found_only_through_its_own_invoice(verified_client, admin_user, tenant):
    with scopes_disabled():
        attachment = CustomerInvoiceAttachmentFactory(invoice__customer__tenant=tenant)
        other_invoice = CustomerInvoiceFactory(customer__tenant=tenant)
    response = verified_client(admin_user).get(
        f"/t/{tenant.pk}/records/customer-invoices/{other_invoice.pk}/attachments/{attachment.pk}/"
    )
    assert response.status_code == 404
