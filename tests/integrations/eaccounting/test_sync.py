"""The eEkonomi sync against the fake: invoices as drafts followed to booked and paid, the
order reference setting, Swedish VAT codes, units eEkonomi lacks, customers both ways,
project fees, and a company without the API module."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from integrations.connections import connection_may_sync
from integrations.models import ConnectionStatus, EntityMap, SyncRunStatus
from records.models import Customer, CustomerInvoice, Product, ProjectFee
from tests.factories import (
    CostCentreFactory,
    CustomerAddressFactory,
    CustomerFactory,
    CustomerInvoiceFactory,
    CustomerInvoiceRowFactory,
    ProductFactory,
    ProjectFactory,
)
from tests.integrations.fortnox.sync_helpers import log, outcome_of, sync, writes

pytestmark = pytest.mark.django_db


def customer_of(tenant, *, number="100", country="SE", vat="SE556036079301", org="556036-0793"):
    customer = CustomerFactory(
        tenant=tenant,
        number=number,
        name=f"Kund {number} AB",
        vat_number=vat,
        organisation_number=org,
    )
    CustomerAddressFactory(
        customer=customer,
        street="Storgatan 1",
        postal_code="85230",
        city="Sundsvall",
        country=country,
    )
    return customer


def invoice_of(tenant, customer, status, *, product, vat_rate=Decimal(25), reference="PO-77"):
    invoice = CustomerInvoiceFactory(
        tenant=tenant, customer=customer, status=status, number="", reference=reference
    )
    CustomerInvoiceRowFactory(
        invoice=invoice, product=product, unit_price=Decimal(1000), vat_rate=vat_rate
    )
    return invoice


@pytest.fixture
def company(swedish_tenant, statuses, hour):
    with scopes_disabled():
        product = ProductFactory(
            tenant=swedish_tenant,
            code="3001",
            name="Konsulttimme",
            unit=hour,
            vat_rate=Decimal(25),
        )
        customer = customer_of(swedish_tenant)
        invoice = invoice_of(swedish_tenant, customer, statuses["Send"], product=product)
    return {"product": product, "customer": customer, "invoice": invoice}


def draft_of(fake) -> dict:
    drafts = list(fake.company().records["customerinvoicedrafts"].values())
    assert len(drafts) == 1, drafts
    return drafts[0]


def vat_code_of(fake, row: dict) -> str:
    return fake.company().records["vatcodes"][row["VatRateId"]]["Code"]


def test_an_invoice_goes_as_a_draft_and_comes_back_booked_with_its_number_and_date(
    make_connection, fake, company, statuses
):
    connection = make_connection()

    first = sync(connection)

    assert first.status == SyncRunStatus.SUCCEEDED, log(first)
    draft = draft_of(fake)
    assert draft["OurReference"] == f"severa-{connection.pk}-invoice-{company['invoice'].pk}"
    assert draft["YourReference"] == "PO-77"
    assert draft["Rows"][0]["ArticleNumber"] == "3001"
    assert vat_code_of(fake, draft["Rows"][0]) == "10"  # domestic 25 %
    with scopes_disabled():
        company["invoice"].refresh_from_db()
    assert company["invoice"].status == statuses["In eEkonomi"]

    booked = fake.book_draft(draft["Id"], invoice_date=datetime.date(2026, 12, 1))
    second = sync(connection)

    assert second.status == SyncRunStatus.SUCCEEDED, log(second)
    with scopes_disabled():
        company["invoice"].refresh_from_db()
    assert company["invoice"].number == str(booked["InvoiceNumber"]) == "1001"
    assert company["invoice"].invoice_date == datetime.date(2026, 12, 1)
    # The run writes its reasons in the company's language (Swedish here).
    assert "Bokförd i eEkonomi som faktura 1001" in outcome_of(second, "1001")[1]

    fake.mark_paid(booked["Id"])
    third = sync(connection)

    with scopes_disabled():
        company["invoice"].refresh_from_db()
    assert company["invoice"].status == statuses["Paid"]
    assert outcome_of(third, "1001") == ("updated", "Betald i eEkonomi: flyttad till ”Paid”.")
    # Nothing more to do.
    before = writes(fake)
    assert sync(connection).status == SyncRunStatus.SUCCEEDED
    assert writes(fake) == before


def test_a_deleted_draft_is_reported_on_the_invoice_and_not_sent_again(
    make_connection, fake, company
):
    connection = make_connection()
    sync(connection)
    fake.delete_draft(draft_of(fake)["Id"])

    run = sync(connection)

    outcome, reason = outcome_of(run, f"#{company['invoice'].pk}")
    assert outcome == "failed"
    assert "raderades i eEkonomi utan att bokföras" in reason
    assert fake.company().records["customerinvoicedrafts"] == {}
    # Reported once; not created again by later runs.
    later = sync(connection)
    assert later.status == SyncRunStatus.SUCCEEDED
    assert log(later) == []
    assert fake.company().records["customerinvoicedrafts"] == {}


def test_a_credited_invoice_is_reported_and_its_paid_status_no_longer_followed(
    make_connection, fake, company
):
    connection = make_connection()
    sync(connection)
    booked = fake.book_draft(draft_of(fake)["Id"])
    sync(connection)
    fake.credit_invoice(booked["Id"])

    run = sync(connection)

    outcome, reason = outcome_of(run, str(booked["InvoiceNumber"]))
    assert outcome == "failed"
    assert "krediterades i eEkonomi" in reason


def test_the_order_reference_can_go_into_a_note(make_connection, fake, company):
    connection = make_connection(order_reference_to="note")

    sync(connection)

    draft = draft_of(fake)
    assert draft["YourReference"] is None
    assert draft["Rows"][0]["IsTextRow"] is True
    assert draft["Rows"][0]["Text"] == "Orderreferens: PO-77"  # the tenant's language
    assert draft["Rows"][1]["ArticleNumber"] == "3001"


@pytest.mark.parametrize(
    ("country", "vat", "org", "code"),
    [
        ("SE", "SE556036079301", "556036-0793", "10"),
        ("FI", "FI15728600", "1572860-0", "39"),  # reverse charge: EU business
        ("US", "", "", "40"),  # outside the EU
    ],
)
def test_swedish_vat_codes_for_domestic_reverse_charge_and_outside_eu_rows(
    make_connection, fake, swedish_tenant, statuses, hour, country, vat, org, code
):
    with scopes_disabled():
        product = ProductFactory(tenant=swedish_tenant, code="3002", unit=hour, vat_rate=25)
        customer = customer_of(swedish_tenant, country=country, vat=vat, org=org)
        invoice_of(
            swedish_tenant,
            customer,
            statuses["Send"],
            product=product,
            vat_rate=Decimal(25) if country == "SE" else Decimal(0),
        )
    connection = make_connection()

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, log(run)
    assert vat_code_of(fake, draft_of(fake)["Rows"][0]) == code


def test_a_product_whose_unit_eekonomi_lacks_is_skipped_with_the_reason(
    make_connection, fake, swedish_tenant
):
    with scopes_disabled():
        from tests.factories import UnitFactory

        ProductFactory(
            tenant=swedish_tenant,
            code="4001",
            name="Pallet",
            unit=UnitFactory(tenant=swedish_tenant, code="pall", name="Pall"),
        )
    connection = make_connection()

    run = sync(connection)

    outcome, reason = outcome_of(run, "4001")
    assert outcome == "skipped"
    assert "eEkonomi har ingen enhet pall" in reason
    assert fake.company().records["articles"] == {}


def test_customers_and_articles_come_from_eekonomi(
    make_connection, fake, eekonomi, swedish_tenant, hour
):
    terms = next(iter(fake.company().records["termsofpayment"]))
    eekonomi.create(
        "customers",
        {
            "CustomerNumber": "501",
            "Name": "Privat Person",
            "IsPrivatePerson": True,
            "IsActive": True,
            "InvoiceAddress1": "Byvägen 2",
            "InvoicePostalCode": "11122",
            "InvoiceCity": "Stockholm",
            "InvoiceCountryCode": "SE",
            "TermsOfPaymentId": terms,
        },
    )
    units = {unit["Code"]: unit["Id"] for unit in fake.company().records["units"].values()}
    codings = list(fake.company().records["articleaccountcodings"].values())
    eekonomi.create(
        "articles",
        {
            "Number": "7001",
            "Name": "Rådgivning",
            "IsActive": True,
            "NetPrice": 950,
            "UnitId": units["h"],
            "CodingId": next(c["Id"] for c in codings if c["VatRatePercent"] == 0.12),
        },
    )
    connection = make_connection()

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, log(run)
    with scopes_disabled():
        customer = Customer.objects.get(tenant=swedish_tenant, number="501")
        product = Product.objects.get(tenant=swedish_tenant, code="7001")
        city = customer.addresses.get().city
    assert customer.kind == "private"
    assert city == "Stockholm"
    assert (product.name, product.unit, product.price, product.vat_rate) == (
        "Rådgivning",
        hour,
        Decimal(950),
        Decimal(12),
    )


def test_a_customer_pairs_by_corporate_id_when_the_numbers_differ(
    make_connection, fake, eekonomi, swedish_tenant
):
    terms = next(iter(fake.company().records["termsofpayment"]))
    remote = eekonomi.create(
        "customers",
        {
            "CustomerNumber": "9",
            "Name": "Kund 100 AB",
            "CorporateIdentityNumber": "556036-0793",
            "IsPrivatePerson": False,
            "IsActive": True,
            "InvoicePostalCode": "85230",
            "InvoiceCity": "Sundsvall",
            "TermsOfPaymentId": terms,
        },
    )
    with scopes_disabled():
        customer_of(swedish_tenant)
    connection = make_connection()

    run = sync(connection)

    assert outcome_of(run, "100 Kund")[0] == "matched"
    with scope(tenant=swedish_tenant.pk):
        assert (
            EntityMap.objects.get(connection=connection, entity_type="customer").remote_id
            == (remote["Id"])
        )
    assert len(fake.company().records["customers"]) == 1


def test_projects_cost_centres_and_project_fees(
    make_connection, fake, swedish_tenant, statuses, hour
):
    with scopes_disabled():
        customer = customer_of(swedish_tenant)
        project = ProjectFactory(tenant=swedish_tenant, customer=customer, number="P12")
        centre = CostCentreFactory(tenant=swedish_tenant, code="SALJ", name="Sälj")
        product = ProductFactory(tenant=swedish_tenant, code="3001", unit=hour, vat_rate=25)
        invoice = invoice_of(swedish_tenant, customer, statuses["Send"], product=product)
        invoice.project = project
        invoice.save()
        row = invoice.rows.get()
        row.cost_centre = centre
        row.save()
    connection = make_connection(default_product_id=product.pk)

    first = sync(connection)

    assert first.status == SyncRunStatus.SUCCEEDED, log(first)
    remote_project = next(iter(fake.company().records["projects"].values()))
    assert (remote_project["Number"], remote_project["Status"]) == ("P12", 1)
    dimension = next(c for c in fake.company().records["costcenters"].values() if c["Number"] == 1)
    assert [item["ShortName"] for item in dimension["Items"]] == ["SALJ"]
    draft_row = draft_of(fake)["Rows"][0]
    assert draft_row["ProjectId"] == remote_project["Id"]
    assert draft_row["CostCenterItemId1"] == dimension["Items"][0]["Id"]

    fake.add_supplier_invoice(
        rows=[
            {
                "AccountNumber": 4010,
                "DebetAmount": 800,
                "ProjectId": remote_project["Id"],
                "TransactionText": "Material",
            },
            {"AccountNumber": 2640, "DebetAmount": 200},  # the VAT row
        ]
    )
    second = sync(connection)
    third = sync(connection)

    with scopes_disabled():
        fees = list(ProjectFee.objects.filter(project=project))
    assert [(fee.unit_cost, fee.is_billable, fee.product_id) for fee in fees] == [
        (Decimal(800), True, product.pk)
    ]
    assert [entry[3] for entry in log(second, "project_fee")] == ["created"]
    assert log(third, "project_fee") == []


def test_a_company_without_the_api_module_is_paused_with_the_reason_in_words(
    make_connection, fake, company, verified_client, admin, swedish_tenant
):
    connection = make_connection()
    fake.remove_api_module()

    run = sync(connection)

    assert run.status == SyncRunStatus.FAILED
    with scopes_disabled():
        connection.refresh_from_db()
    assert connection.status == ConnectionStatus.PAUSED
    assert "api_standard" in connection.status_reason
    assert connection.status_reason.startswith("Visma eEkonomi vägrar API")  # Swedish tenant
    # Paused: no scheduled run calls eEkonomi again until the company connects again.
    assert not connection_may_sync(connection=connection)

    page = verified_client(admin).get(
        reverse(
            "tenant_integration",
            kwargs={"tenant_id": swedish_tenant.pk, "connection_id": connection.pk},
        )
    )
    content = page.content.decode()
    assert "api_standard" in content
    assert "Dataöverföring" in content

    fake.add_api_module()
    make_connection()
    assert sync(connection).status == SyncRunStatus.SUCCEEDED


def test_invoices_after_a_lost_answer_are_created_once(make_connection, fake, company):
    connection = make_connection()
    fake.inject("lost_response", method="POST", path_prefix="/v2/customerinvoicedrafts")

    sync(connection)
    sync(connection)

    assert len(fake.company().records["customerinvoicedrafts"]) == 1
    with scopes_disabled():
        assert CustomerInvoice.objects.get(pk=company["invoice"].pk).status.name == "In eEkonomi"
