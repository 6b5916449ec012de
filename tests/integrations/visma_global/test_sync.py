"""The Severa ↔ Visma Global rules, end to end: the service plans, the in-process agent runs
the jobs against the fake Visma Global."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from integrations.models import Agent, EntityMap, Master, SyncRunStatus, Transfer
from records.models import BusinessUnit, Customer, CustomerInvoice, Employee, Product, ProjectFee
from records.models import Project as SeveraProject
from tests.factories import (
    BusinessUnitFactory,
    CustomerAddressFactory,
    CustomerContactFactory,
    CustomerFactory,
    CustomerInvoiceFactory,
    CustomerInvoiceRowFactory,
    EmployeeFactory,
    ProductFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db


def numbers(kit, register: str, field: str) -> set[str]:
    return {str(row[field]) for row in kit.vg.records(register)}


def transfers(run) -> list[tuple[str, str, str]]:
    with scopes_disabled():
        return list(
            Transfer.objects.filter(run=run).values_list("entity_type", "outcome", "reason")
        )


def test_departments_flow_both_ways_matched_by_code_and_name(site, kit):
    with scopes_disabled():
        BusinessUnitFactory(tenant=site.tenant, code="10", name="Sales")
        BusinessUnitFactory(tenant=site.tenant, code="20", name="Consulting")
    kit.vg.create("department", {"DepartmentNo": "20", "Name": "Consulting"})
    kit.vg.create("department", {"DepartmentNo": "30", "Name": "Support"})
    site.connect()

    run = site.sync()

    assert run.status == SyncRunStatus.SUCCEEDED, (run.error, transfers(run))
    assert numbers(kit, "department", "DepartmentNo") == {"10", "20", "30"}
    with scopes_disabled():
        assert set(BusinessUnit.objects.values_list("code", "name")) == {
            ("10", "Sales"),
            ("20", "Consulting"),
            ("30", "Support"),
        }
    outcomes = {(entity, outcome) for entity, outcome, _r in transfers(run)}
    assert ("business_unit", "matched") in outcomes


def test_every_user_becomes_an_employee_and_only_employees_with_an_email_come_back(site, kit):
    with scopes_disabled():
        EmployeeFactory(tenant=site.tenant, first_name="Outi", last_name="Office", email="")
    kit.vg.create(
        "employee",
        {
            "EmployeeNo": "501",
            "FirstName": "Mari",
            "LastName": "Mail",
            "Email": "mari@example.test",
        },
    )
    kit.vg.create(
        "employee", {"EmployeeNo": "502", "FirstName": "Nils", "LastName": "Nomail", "Email": ""}
    )
    site.connect()

    run = site.sync()

    assert run.status == SyncRunStatus.SUCCEEDED, (run.error, transfers(run))
    emails = {row["Email"] for row in kit.vg.records("employee")}
    # The admin user (an employee from the members) and the employee without e-mail went.
    assert site.admin.email in emails and "" in emails
    assert any(row["LastName"] == "Office" for row in kit.vg.records("employee"))
    with scopes_disabled():
        names = set(Employee.objects.values_list("last_name", flat=True))
    assert "Mail" in names and "Nomail" not in names
    assert any(
        "e-mail address" in reason for _e, outcome, reason in transfers(run) if outcome == "skipped"
    )


def test_products_flow_both_ways_and_visma_global_is_master_when_set(site, kit):
    with scopes_disabled():
        ProductFactory(tenant=site.tenant, code="1001", name="Consulting", kind="work_type")
        ProductFactory(tenant=site.tenant, code="1002", name="Kilometres", kind="travel")
        site.connection.masters = {"product": Master.REMOTE}
        site.connection.save(update_fields=["masters"])
    kit.vg.create(
        "article", {"ArticleNo": "2001", "Name": "Licence", "ArticleType": "Product", "Price": "50"}
    )
    site.connect()

    assert site.sync().status == SyncRunStatus.SUCCEEDED
    articles = {row["ArticleNo"]: row for row in kit.vg.records("article")}
    assert articles["1001"]["ArticleType"] == "Work"
    assert articles["1002"]["ArticleType"] == "Travel"
    with scopes_disabled():
        licence = Product.objects.get(code="2001")
        assert licence.kind == "product" and licence.price == Decimal("50")
        # A change here is not sent (Visma Global is master); a change there comes.
        consulting = Product.objects.get(code="1001")
        consulting.name = "Consulting (senior)"
        consulting.save()
    kit.vg.update("article", "2001", {"Name": "Licence 2027"})

    run = site.sync()

    assert articles["1001"]["Name"] == "Consulting"
    assert {row["ArticleNo"]: row["Name"] for row in kit.vg.records("article")}[
        "1001"
    ] == "Consulting"
    with scopes_disabled():
        assert Product.objects.get(code="2001").name == "Licence 2027"
    assert any("master" in reason for _e, outcome, reason in transfers(run) if outcome == "skipped")


def test_only_customers_with_a_won_project_go_and_all_of_the_transferable_types_come(site, kit):
    with scopes_disabled():
        won = CustomerFactory(tenant=site.tenant, number="5001", name="Won Oy")
        CustomerAddressFactory(customer=won)
        CustomerContactFactory(customer=won, first_name="Wilma", last_name="Won")
        lead = CustomerFactory(tenant=site.tenant, number="5002", name="Lead Oy")
        ProjectFactory(tenant=site.tenant, customer=won, number="P1", sales_status="won")
        lead_project = ProjectFactory(
            tenant=site.tenant, customer=lead, number="P2", sales_status="proposal"
        )
        Agent.objects.filter(connection=site.connection).delete()
    kit.vg.create(
        "customer",
        {
            "CustomerNo": "8001",
            "Name": "Domestic AS",
            "CustomerTypeNo": 1,
            "Addresses": [
                {
                    "Kind": "invoice",
                    "Street": "Storgata 1",
                    "PostalCode": "0155",
                    "City": "Oslo",
                    "Country": "NO",
                }
            ],
            "Contacts": [{"FirstName": "Ola", "LastName": "Nordmann", "Email": "ola@example.test"}],
        },
    )
    kit.vg.create("customer", {"CustomerNo": "8002", "Name": "Internal AS", "CustomerTypeNo": 9})
    site.connect()
    with scopes_disabled():
        Agent.objects.filter(connection=site.connection).update(options={"customer_types": [1, 2]})

    run = site.sync()

    assert run.status == SyncRunStatus.SUCCEEDED, (run.error, transfers(run))
    vg_customers = {row["CustomerNo"]: row for row in kit.vg.records("customer")}
    assert "5001" in vg_customers and "5002" not in vg_customers
    assert vg_customers["5001"]["Contacts"][0]["LastName"] == "Won"
    assert vg_customers["5001"]["Addresses"][0]["City"] == "Helsinki"
    assert numbers(kit, "project", "ProjectNo") == {"P1"}
    with scopes_disabled():
        domestic = Customer.objects.get(number="8001")
        assert domestic.addresses.get().city == "Oslo"
        assert domestic.contacts.get().email == "ola@example.test"
        assert not Customer.objects.filter(number="8002").exists()
        # The proposal is won: its customer and the project go.
        lead_project.sales_status = "won"
        lead_project.save()

    assert site.sync().status == SyncRunStatus.SUCCEEDED
    assert {"5001", "5002"} <= numbers(kit, "customer", "CustomerNo")
    assert numbers(kit, "project", "ProjectNo") == {"P1", "P2"}


def test_projects_of_visma_global_come_as_won(site, kit):
    with scopes_disabled():
        CustomerFactory(tenant=site.tenant, number="5003", name="Buyer Oy")
    kit.vg.create("customer", {"CustomerNo": "5003", "Name": "Buyer Oy", "CustomerTypeNo": 1})
    kit.vg.create("project", {"ProjectNo": "VG7", "Name": "Roll-out", "CustomerNo": "5003"})
    site.connect()

    assert site.sync().status == SyncRunStatus.SUCCEEDED
    with scopes_disabled():
        project = SeveraProject.objects.get(number="VG7")
    assert project.sales_status == "won" and project.customer.number == "5003"


def test_an_invoice_goes_as_an_order_then_comes_back_sent_and_paid(site, kit):
    with scopes_disabled():
        customer = CustomerFactory(tenant=site.tenant, number="5004", name="Payer Oy")
        ProjectFactory(tenant=site.tenant, customer=customer, number="P4", sales_status="won")
        product = ProductFactory(tenant=site.tenant, code="1004", name="Design")
        invoice = CustomerInvoiceFactory(
            tenant=site.tenant, customer=customer, status=site.statuses["Send"], number="F1"
        )
        CustomerInvoiceRowFactory(invoice=invoice, product=product)
        draft = CustomerInvoiceFactory(
            tenant=site.tenant, customer=customer, status=site.statuses["Draft"], number="F2"
        )
    site.connect()

    assert site.sync().status == SyncRunStatus.SUCCEEDED
    orders = kit.vg.records("order")
    assert len(orders) == 1
    order = orders[0]
    assert order["ExternalRef"] == f"severa-{site.connection.pk}-invoice-{invoice.pk}"
    assert order["CustomerNo"] == "5004" and order["Rows"][0]["ArticleNo"] == "1004"
    with scopes_disabled():
        assert CustomerInvoice.objects.get(pk=invoice.pk).status == site.statuses["Send"]
        assert CustomerInvoice.objects.get(pk=draft.pk).status == site.statuses["Draft"]

    number = kit.vg.order_to_invoice(order["OrderNo"])
    assert site.sync().status == SyncRunStatus.SUCCEEDED
    with scopes_disabled():
        assert CustomerInvoice.objects.get(pk=invoice.pk).status == site.statuses["Send"]

    kit.vg.invoice_send(number)
    run = site.sync()
    with scopes_disabled():
        assert CustomerInvoice.objects.get(pk=invoice.pk).status == site.statuses["Sent"]
    assert any(number in reason for _e, _o, reason in transfers(run))

    kit.vg.invoice_pay(number)
    site.sync()
    with scopes_disabled():
        assert CustomerInvoice.objects.get(pk=invoice.pk).status == site.statuses["Paid"]
    assert len(kit.vg.records("order")) == 1


@pytest.mark.parametrize("billable", [True, False])
def test_supplier_invoices_on_a_project_come_as_billable_or_cost_only_fees(site, kit, billable):
    with scopes_disabled():
        customer = CustomerFactory(tenant=site.tenant, number="5005", name="Site Oy")
        ProjectFactory(tenant=site.tenant, customer=customer, number="P5", sales_status="won")
        ProductFactory(tenant=site.tenant, code="3001", name="Materials")
    site.connect()
    with scopes_disabled():
        Agent.objects.filter(connection=site.connection).update(
            options={"supplier_invoices_billable": billable}
        )
    kit.vg.supplier_invoice_add(
        number="L-77",
        supplier="Hardware AS",
        date="2026-12-01",
        rows=[
            {
                "ProjectNo": "P5",
                "ArticleNo": "3001",
                "Text": "Cables",
                "Quantity": 2,
                "Amount": "80.00",
            },
            {
                "ProjectNo": "",
                "ArticleNo": "",
                "Text": "Office coffee",
                "Quantity": 1,
                "Amount": "15.00",
            },
        ],
    )

    assert site.sync().status == SyncRunStatus.SUCCEEDED
    assert site.sync().status == SyncRunStatus.SUCCEEDED
    with scopes_disabled():
        fee = ProjectFee.objects.get()
    assert fee.project.number == "P5" and fee.product.code == "3001"
    assert fee.unit_cost == Decimal("40.00") and fee.quantity == 2
    assert fee.is_billable is billable
    assert fee.unit_price == (Decimal("40.00") if billable else Decimal(0))


def test_overlapping_number_series_refuse_the_first_sync(site, kit):
    with scopes_disabled():
        customer = CustomerFactory(tenant=site.tenant, number="50010", name="Clash Oy")
        ProjectFactory(tenant=site.tenant, customer=customer, sales_status="won")
    site.connect()

    run = site.sync()

    assert run.status == SyncRunStatus.FAILED
    assert "50010" in run.error and "number series" in run.error
    assert kit.vg.records("customer") == []
    with scopes_disabled():
        checklist = Agent.objects.get().options["checklist"]
        assert not EntityMap.objects.exists()
    assert {item["code"]: item["ok"] for item in checklist["items"]}["customer_series"] is False

    kit.vg.data["series"]["customer"].update({"From": 70000, "To": 79999, "Next": 70000})
    assert site.sync().status == SyncRunStatus.SUCCEEDED
    assert "50010" in numbers(kit, "customer", "CustomerNo")


def test_a_missing_default_article_refuses_the_first_sync(site, kit):
    with scopes_disabled():
        product = ProductFactory(tenant=site.tenant, code="9999", name="Fees")
        site.connection.default_product_id = product.pk
        site.connection.masters = {"product": Master.SEVERA}
        site.connection.save(update_fields=["default_product_id", "masters"])
    site.connect()

    run = site.sync()

    assert run.status == SyncRunStatus.FAILED
    assert "9999" in run.error
    kit.vg.create("article", {"ArticleNo": "9999", "Name": "Fees"})
    assert site.sync().status == SyncRunStatus.SUCCEEDED
