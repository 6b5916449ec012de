"""Customer invoices to Fortnox by status (sending status → Fortnox invoice → received
status; paid in Fortnox → paid status), look-up before create, attachments; and project
fees from supplier-invoice rows booked to a project."""

from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from integrations.fortnox.client import SUPPLIER_INVOICES, SUPPLIERS
from integrations.fortnox.fake import RESOURCES
from integrations.models import SyncRunStatus
from records.models import CustomerInvoice, ProjectFee
from tests.factories import (
    CustomerAddressFactory,
    CustomerFactory,
    CustomerInvoiceAttachmentFactory,
    CustomerInvoiceFactory,
    CustomerInvoiceRowFactory,
    ProductFactory,
    ProjectFactory,
)
from tests.integrations.fortnox.sync_helpers import (
    log,
    outcome_of,
    records_of,
    remote_map,
    sync,
    writes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(tenant):
    with scopes_disabled():
        customer = CustomerFactory(tenant=tenant, number="7001", name="Invoiced Oy")
        CustomerAddressFactory(customer=customer)
    return customer


def invoice_in(status, customer, *, number="INV-1", **extra):
    with scopes_disabled():
        invoice = CustomerInvoiceFactory(
            tenant=customer.tenant, customer=customer, status=status, number=number, **extra
        )
        product = ProductFactory(tenant=customer.tenant, code=f"9{invoice.pk}", name="Work")
        CustomerInvoiceRowFactory(
            invoice=invoice,
            product=product,
            description="Design work",
            quantity=Decimal("3.00"),
            unit_price=Decimal("100.00"),
            vat_rate=Decimal("25.00"),
        )
    return invoice


def status_of(invoice) -> str:
    with scope(tenant=invoice.tenant_id):
        return CustomerInvoice.objects.get(pk=invoice.pk).status.name


def test_the_invoice_status_cycle(tenant, statuses, customer, make_connection, fake, fortnox):
    waiting = invoice_in(statuses["Send to Fortnox"], customer)
    draft = invoice_in(statuses["Draft"], customer, number="INV-2")
    connection = make_connection()

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    invoices = records_of(fake, "invoices")
    assert len(invoices) == 1
    (sent,) = invoices.values()
    reference = f"severa-{connection.pk}-invoice-{waiting.pk}"
    assert sent["ExternalInvoiceReference1"] == reference
    assert sent["CustomerNumber"] == "7001"
    row = sent["InvoiceRows"][0]
    assert (row["Description"], row["DeliveredQuantity"], row["Price"]) == (
        "Design work",
        Decimal("3"),
        Decimal("100"),
    )
    assert row["ArticleNumber"] == f"9{waiting.pk}"  # the product went first
    assert sent["Total"] == Decimal("375")
    assert status_of(waiting) == "In Fortnox"
    assert status_of(draft) == "Draft"
    received = [e for e in log(run, "invoice") if e[1] == "to_local"]
    assert received[0][3] == "updated"
    assert "moved to “In Fortnox”" in received[0][4]

    # Nothing changes while Fortnox has not been paid.
    run = sync(connection)
    assert log(run, "invoice") == []
    assert status_of(waiting) == "In Fortnox"

    # Booked and paid in full in Fortnox: the invoice moves to the paid status.
    number = sent["DocumentNumber"]
    fortnox.bookkeep_invoice(number)
    fortnox.create_invoice_payment({"InvoiceNumber": number, "Amount": Decimal("375")})
    run = sync(connection)
    assert status_of(waiting) == "Paid"
    assert outcome_of(run, "INV-1") == ("updated", "Paid in Fortnox: moved to “Paid”.")
    assert len(records_of(fake, "invoices")) == 1


def test_a_partly_paid_invoice_stays_received(
    tenant, statuses, customer, make_connection, fake, fortnox
):
    invoice = invoice_in(statuses["Send to Fortnox"], customer)
    connection = make_connection()
    sync(connection)
    number = remote_map(connection, "invoice")[invoice.pk]
    fortnox.bookkeep_invoice(number)
    fortnox.create_invoice_payment({"InvoiceNumber": number, "Amount": Decimal("100")})

    sync(connection)

    assert status_of(invoice) == "In Fortnox"


def test_an_invoice_whose_customer_is_not_in_fortnox_waits(tenant, statuses, make_connection, fake):
    with scopes_disabled():
        no_vat = CustomerFactory(tenant=tenant, number="7100", name="No VAT Oy", vat_number="")
        CustomerAddressFactory(customer=no_vat)
    invoice = invoice_in(statuses["Send to Fortnox"], no_vat)
    connection = make_connection()

    run = sync(connection)

    assert records_of(fake, "invoices") == {}
    assert status_of(invoice) == "Send to Fortnox"
    outcome, reason = outcome_of(run, "INV-1")
    assert outcome == "skipped"
    assert "7100 No VAT Oy is not in Fortnox yet" in reason


def test_an_unclear_create_is_looked_up_by_reference_never_duplicated(
    tenant, statuses, customer, make_connection, fake
):
    invoice = invoice_in(statuses["Send to Fortnox"], customer)
    connection = make_connection()
    # Fortnox creates the invoice, and the answer is lost.
    fake.inject("lost_response", method="POST", path_prefix="/3/invoices")

    run = sync(connection)

    assert len(records_of(fake, "invoices")) == 1
    assert log(run, "invoice")[0][3:] == (
        "created",
        "Found by look-up after an unclear answer to the create.",
    )
    assert status_of(invoice) == "In Fortnox"
    posts = fake.requests(method="POST", path_prefix="/3/invoices")
    assert len(posts) == 1


def test_attachments_are_uploaded_to_the_inbox_and_attached_to_the_invoice_once(
    tenant, statuses, customer, make_connection, fake
):
    invoice = invoice_in(statuses["Send to Fortnox"], customer)
    with scopes_disabled():
        attachment = CustomerInvoiceAttachmentFactory(
            invoice=invoice, file_name="timesheet.pdf", content=b"%PDF-1.4 hours"
        )
    connection = make_connection(transfer_attachments=True)
    # The attach's answer is lost once (Fortnox attached it): not attached twice.
    fake.inject("lost_response", count=1, method="POST", path_prefix="/api/fileattachments")

    first = sync(connection)

    (note,) = log(first, "invoice_attachment")
    assert note[3] == "unverified"
    assert status_of(invoice) == "In Fortnox"

    second = sync(connection)

    (note,) = log(second, "invoice_attachment")
    assert note[3] == "created"
    company = fake.company()
    (stored,) = company.files.values()
    assert (stored["Name"], stored["content"]) == ("timesheet.pdf", b"%PDF-1.4 hours")
    (attached,) = company.attachments.values()
    document_number = remote_map(connection, "invoice")[invoice.pk]
    assert (attached["entityType"], str(attached["entityId"]), attached["fileId"]) == (
        "F",
        document_number,
        stored["Id"],
    )
    assert attached["includeOnSend"] is True
    assert remote_map(connection, "invoice_attachment") == {attachment.pk: attached["id"]}
    assert len(fake.requests(method="POST", path_prefix="/3/inbox")) == 1
    assert log(sync(connection), "invoice_attachment") == []


def test_a_company_without_the_inbox_licence_blocks_only_attachments(
    tenant, statuses, customer, make_connection, fake
):
    invoice = invoice_in(statuses["Send to Fortnox"], customer)
    with scopes_disabled():
        CustomerInvoiceAttachmentFactory(invoice=invoice)
    connection = make_connection(transfer_attachments=True)
    fake.unlicense("inbox")

    run = sync(connection)

    (note,) = log(run, "invoice_attachment")
    assert note[3] == "blocked"
    assert "invoice attachments are not transferred" in note[4]
    assert log(run, "invoice")[0][3] == "created"
    assert status_of(invoice) == "In Fortnox"


def supplier_invoice(fortnox, rows, *, booked=True):
    if not fortnox.find(SUPPLIERS, "50"):
        fortnox.request(
            "POST", "suppliers", body={"Supplier": {"SupplierNumber": "50", "Name": "Hotel AB"}}
        )
    invoice = fortnox.request(
        "POST",
        "supplierinvoices",
        body={
            "SupplierInvoice": {
                "SupplierNumber": "50",
                "InvoiceNumber": "H-123",
                "InvoiceDate": "2026-03-02",
                "Total": Decimal("1250"),
                "VAT": Decimal("250"),
                "SupplierInvoiceRows": rows,
            }
        },
    )["SupplierInvoice"]
    if booked:
        fortnox.action(SUPPLIER_INVOICES, invoice["GivenNumber"], "bookkeep")
    return invoice


def test_supplier_invoice_rows_booked_to_a_project_become_fees_once(
    tenant, make_connection, fake, fortnox
):
    with scopes_disabled():
        project = ProjectFactory(tenant=tenant, number="55", name="Client project")
        hotel = ProductFactory(tenant=tenant, code="810", name="Hotel nights", price=Decimal(1))
        default = ProductFactory(tenant=tenant, code="800", name="Purchases")
    connection = make_connection(default_product_id=default.pk)
    sync(connection)  # the project and products are in Fortnox now
    assert "55" in records_of(fake, "projects")
    supplier_invoice(
        fortnox,
        [
            {
                "Account": 4010,
                "Debit": Decimal("600"),
                "Project": "55",
                "ArticleNumber": "810",
                "ItemDescription": "Two nights",
                "Quantity": Decimal("2"),
            },
            {"Account": 4010, "Debit": Decimal("400"), "Project": "55", "ItemDescription": "Taxi"},
            {"Account": 4010, "Debit": Decimal("-0"), "ItemDescription": "Office, no project"},
            {"Account": 2641, "Code": "VAT", "Debit": Decimal("250"), "Project": "55"},
            {"Account": 2440, "Code": "TOT", "Credit": Decimal("1250")},
        ],
    )

    run = sync(connection)

    with scope(tenant=tenant.pk):
        fees = list(ProjectFee.objects.filter(project=project).order_by("unit_cost"))
    assert [(f.product_id, f.quantity, f.unit_cost, f.is_billable) for f in fees] == [
        (hotel.pk, Decimal("2.00"), Decimal("300.00"), True),
        (default.pk, Decimal("1.00"), Decimal("400.00"), True),
    ]
    assert fees[0].unit_price == Decimal("300.00")  # without VAT, at cost
    assert "H-123" in fees[0].description
    assert [(e[2], e[3]) for e in log(run, "project_fee")] == [
        ("1/1 Two nights", "created"),
        ("1/2 Taxi", "created"),
    ]
    assert {
        remote_id.split("-")[0] for remote_id in remote_map(connection, "project_fee").values()
    } == {"1"}

    before = writes(fake)
    run = sync(connection)
    with scope(tenant=tenant.pk):
        assert ProjectFee.objects.count() == 2
    assert writes(fake) == before


def test_fees_without_a_product_are_cost_only(tenant, make_connection, fake, fortnox):
    with scopes_disabled():
        project = ProjectFactory(tenant=tenant, number="56", name="Internal")
    connection = make_connection(default_product_id=None)
    sync(connection)
    supplier_invoice(fortnox, [{"Account": 4010, "Debit": Decimal("99.90"), "Project": "56"}])

    sync(connection)

    with scope(tenant=tenant.pk):
        fee = ProjectFee.objects.get(project=project)
    assert (fee.product_id, fee.unit_cost, fee.unit_price, fee.is_billable) == (
        None,
        Decimal("99.90"),
        Decimal("0.00"),
        False,
    )


def test_fees_for_a_project_severa_lacks_are_skipped(tenant, make_connection, fake, fortnox):
    connection = make_connection()
    fortnox.create_project({"ProjectNumber": "99", "Description": "Fortnox only"})
    supplier_invoice(fortnox, [{"Account": 4010, "Debit": Decimal("10"), "Project": "99"}])

    run = sync(connection)

    (entry,) = log(run, "project_fee")
    assert (entry[3], entry[4]) == ("skipped", "Severa has no project 99.")


def test_supplier_invoices_from_before_the_activation_are_not_read(
    tenant, make_connection, fake, fortnox
):
    with scopes_disabled():
        ProjectFactory(tenant=tenant, number="57", name="Old costs")
    fortnox.create_project({"ProjectNumber": "57", "Description": "Old costs"})
    fake.time_offset = -3600  # booked an hour before the integration was activated
    supplier_invoice(fortnox, [{"Account": 4010, "Debit": Decimal("10"), "Project": "57"}])
    fake.time_offset = 0
    connection = make_connection()

    run = sync(connection)

    assert log(run, "project_fee") == []
    with scope(tenant=tenant.pk):
        assert ProjectFee.objects.count() == 0


def test_fees_come_only_from_booked_supplier_invoices_and_a_new_row_does_not_bring_one_twice(
    tenant, make_connection, fake, fortnox
):
    with scopes_disabled():
        project = ProjectFactory(tenant=tenant, number="58", name="Site work")
    connection = make_connection()
    sync(connection)
    hotel = {"Account": 4010, "Debit": Decimal("1000"), "Project": "58", "ItemDescription": "Hotel"}
    draft = supplier_invoice(fortnox, [hotel], booked=False)

    sync(connection)

    with scope(tenant=tenant.pk):
        assert ProjectFee.objects.count() == 0  # not booked yet: it may still change

    fortnox.action(SUPPLIER_INVOICES, draft["GivenNumber"], "bookkeep")
    sync(connection)
    with scope(tenant=tenant.pk):
        assert list(ProjectFee.objects.values_list("unit_cost", flat=True)) == [Decimal("1000")]

    # A row is inserted before the 1,000 SEK one (Fortnox changes the booked invoice, e.g. a
    # correction): the 1,000 SEK cost is not brought in a second time.
    stored = records_of(fake, "supplierinvoices")[draft["GivenNumber"]]
    taxi = {**hotel, "Debit": Decimal("120"), "ItemDescription": "Taxi"}
    stored["SupplierInvoiceRows"] = [taxi, *stored["SupplierInvoiceRows"]]
    fake._touch(fake.company(), RESOURCES["supplierinvoices"], draft["GivenNumber"])

    sync(connection)

    with scope(tenant=tenant.pk):
        costs = sorted(
            ProjectFee.objects.filter(project=project).values_list("unit_cost", flat=True)
        )
    assert costs == [Decimal("120"), Decimal("1000")]
