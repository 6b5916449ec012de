"""The Visma.net ERP connector against its fake: Visma Connect and the wrong-tenant pitfall,
the advertised rate limit, the value wrapper, subaccount segments, VAT codes, paid status,
customers and items both ways, and project fees."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
from django.core.exceptions import ValidationError
from django_scopes import scope, scopes_disabled

from integrations.models import ConnectionStatus, SyncRunStatus, Transfer
from integrations.oauth import authorization_complete, callback_url, client_credentials_authorize
from integrations.ratelimit import LocalAdvertisedLimiter
from integrations.vismanet.client import VismaNetClient, WrongTenant
from integrations.vismanet.fake import DEFAULT_COMPANY, DEFAULT_CUSTOMER_TENANT
from integrations.vismanet.segments import (
    dimension_segments,
    segment_overview,
    segment_settings,
    segment_settings_save,
)
from records.models import Customer, CustomerInvoice, Product, ProjectFee
from tests.factories import (
    BusinessUnitFactory,
    CostCentreFactory,
    CustomerInvoiceFactory,
    CustomerInvoiceRowFactory,
    ProductFactory,
    ProjectFactory,
    UnitFactory,
)
from tests.integrations.vismanet.conftest import sync

pytestmark = pytest.mark.django_db


def _invoice(tenant, customer, status, rows):
    with scopes_disabled():
        invoice = CustomerInvoiceFactory(
            tenant=tenant, customer=customer, status=status, currency="NOK"
        )
        for position, values in enumerate(rows):
            CustomerInvoiceRowFactory(invoice=invoice, position=position, **values)
        return invoice


def _remote_invoice(fake, invoice, connection):
    reference = f"severa-{connection.pk}-invoice-{invoice.pk}"
    found = [
        record
        for record in fake.company().records["customerinvoice"].values()
        if record.get("externalReference") == reference
    ]
    assert len(found) == 1
    return found[0]


# ---------------------------------------------------------------------------- Visma Connect
def test_service_account_of_the_company_connects_and_syncs(kit, draft, customer):
    with scope(tenant=draft.tenant_id):
        connection = client_credentials_authorize(
            connection=draft, remote_tenant_id=DEFAULT_COMPANY, actor=None
        )
    assert connection.status == ConnectionStatus.ACTIVE
    assert connection.auth_kind == "client_credentials"

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert "7001" in kit.fake.company().records["customer"]


def test_the_customer_tenant_is_refused_in_words_and_changes_nothing(kit, draft, admin):
    with scope(tenant=draft.tenant_id), pytest.raises(WrongTenant) as refused:
        client_credentials_authorize(
            connection=draft, remote_tenant_id=DEFAULT_CUSTOMER_TENANT, actor=None
        )
    assert "pick the Visma.net ERP company" in str(refused.value)
    assert "tenant id, not the customer's" in str(refused.value)
    code = kit.fake.issue_code(redirect_uri=callback_url(), tenant_id=DEFAULT_CUSTOMER_TENANT)
    with scope(tenant=draft.tenant_id), pytest.raises(WrongTenant):
        authorization_complete(connection=draft, code=code, actor=admin)
    draft.refresh_from_db()
    assert draft.status != ConnectionStatus.ACTIVE
    assert not draft.access_token_encrypted
    # Visma Connect accepted both; the ERP answered 401 to the one check of each.
    assert [entry.status for entry in kit.fake.requests()] == [401, 401]


def test_interactive_sign_in_asks_for_offline_access(kit, connection):
    assert "offline_access" in connection.token_scope
    assert connection.refresh_token_encrypted


# ---------------------------------------------------------------------------- the API
def test_the_limiter_follows_the_advertised_limit_and_never_meets_a_429(kit, connection):
    fake = kit.fake
    fake.rate_limit, fake.rate_window = 8, 1.5
    token = fake.issue_code  # noqa: F841 (the connection's own token is used)
    from integrations.tokens import access_token_for

    with scope(tenant=connection.tenant_id):
        client = VismaNetClient(
            access_token_for(connection=connection), rate_limiter=LocalAdvertisedLimiter(reserve=1)
        )
    before = len(fake.requests())
    for _index in range(20):
        client.request("GET", "customer", params={"pageNumber": 1, "pageSize": 10})

    served = fake.requests()[before:]
    assert len(served) == 20
    assert all(entry.status == 200 for entry in served)
    assert fake.max_in_window() <= 8


def test_writes_without_the_value_wrapper_or_with_unknown_fields_are_refused(kit, connection):
    from integrations.tokens import access_token_for

    with scope(tenant=connection.tenant_id):
        headers = {
            "Authorization": f"Bearer {access_token_for(connection=connection)}",
            "Content-Type": "application/json",
        }
    url = kit.server.api_url + "customer"
    bare = requests.post(url, data=json.dumps({"name": "Bare AS"}), headers=headers, timeout=5)
    unknown = requests.post(
        url,
        data=json.dumps({"name": {"value": "X"}, "colour": {"value": "red"}}),
        headers=headers,
        timeout=5,
    )

    assert bare.status_code == 400
    assert '{"value"' in bare.json()["ExceptionMessage"]
    assert unknown.status_code == 400
    assert "colour" in unknown.json()["ExceptionMessage"]
    assert kit.fake.company().records["customer"] == {}


# ---------------------------------------------------------------------------- segments
@pytest.fixture
def segmented(kit, connection, tenant):
    fake = kit.fake
    fake.segment_add(1, "Avdeling", length=2)
    fake.segment_add(2, "Kostnadssted", length=3)
    for value, text in (("10", "Oslo"), ("20", "Bergen")):
        fake.segment_value_add(1, value, text)
    for value, text in (("100", "Salg"), ("200", "Drift")):
        fake.segment_value_add(2, value, text)
    with scopes_disabled():
        units = {code: BusinessUnitFactory(tenant=tenant, code=code) for code in ("A", "B", "C")}
        centres = {code: CostCentreFactory(tenant=tenant, code=code) for code in ("X", "Y")}
    return units, centres


def _save_segments(connection, fake, *, department, cost_centre, units, centres):
    segments = dimension_segments(dimension=fake_dimension(fake))
    with scope(tenant=connection.tenant_id):
        return segment_settings_save(
            connection=connection,
            segments=segments,
            department_segment=department,
            cost_centre_segment=cost_centre,
            business_units=units,
            cost_centres=centres,
            actor=None,
        )


def fake_dimension(fake):
    return fake._dimension(fake.company(), ["SUBACCOUNT"])


def _segments_of(line):
    return {
        segment["segmentId"]: segment["segmentValue"] for segment in line["subaccount"]["segments"]
    }


def test_segment_strings_from_department_and_cost_centre(
    kit, connection, segmented, tenant, statuses, customer
):
    units, centres = segmented
    _save_segments(
        connection,
        kit.fake,
        department=1,
        cost_centre=2,
        # Two departments share one value; C and Y stay unmatched.
        units={units["A"].pk: "10", units["B"].pk: "10"},
        centres={centres["X"].pk: "100"},
    )
    rows = [
        {"business_unit": units["A"], "cost_centre": centres["X"]},  # both
        {"business_unit": units["B"], "cost_centre": None},  # department only
        {"business_unit": None, "cost_centre": centres["X"]},  # cost centre only
        {"business_unit": units["C"], "cost_centre": centres["Y"]},  # neither matched
    ]
    invoice = _invoice(
        tenant, customer, statuses["Send"], [{**row, "vat_rate": Decimal(25)} for row in rows]
    )

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    lines = _remote_invoice(kit.fake, invoice, connection)["invoiceLines"]
    assert [_segments_of(line) for line in lines] == [
        {1: "10", 2: "100"},
        {1: "10", 2: ""},
        {1: "", 2: "100"},
        {1: "", 2: ""},
    ]
    assert lines[0]["subaccount"]["subaccountNumber"] == "10-100"
    with scope(tenant=tenant.pk):
        created = Transfer.objects.get(run=run, entity_type="invoice", outcome="created")
    assert "Row 2: segment 2 Kostnadssted is empty: the row has no cost centre" in created.reason
    assert "Row 4: segment 1 Avdeling is empty: department C" in created.reason
    assert "is not matched to a value" in created.reason
    assert "Row 1" not in created.reason


def test_only_the_picked_segments_are_given(kit, connection, segmented, tenant, statuses, customer):
    units, centres = segmented
    _save_segments(
        connection,
        kit.fake,
        department=None,
        cost_centre=2,
        units={},
        centres={centres["Y"].pk: "200"},
    )
    invoice = _invoice(
        tenant,
        customer,
        statuses["Send"],
        [{"business_unit": units["A"], "cost_centre": centres["Y"], "vat_rate": Decimal(25)}],
    )

    sync(connection)

    (line,) = _remote_invoice(kit.fake, invoice, connection)["invoiceLines"]
    assert _segments_of(line) == {1: "", 2: "200"}


def test_neither_segment_picked_sends_no_subaccount(kit, connection, tenant, statuses, customer):
    invoice = _invoice(tenant, customer, statuses["Send"], [{"vat_rate": Decimal(25)}])
    checks = len(kit.fake.requests(path_prefix="/v1/dimension"))  # the company check

    sync(connection)

    (line,) = _remote_invoice(kit.fake, invoice, connection)["invoiceLines"]
    assert line["subaccount"] is None
    # No segments picked: the dimension is not read.
    assert len(kit.fake.requests(path_prefix="/v1/dimension")) == checks


def test_a_removed_value_shows_broken_and_leaves_its_segment_empty(
    kit, connection, segmented, tenant, statuses, customer
):
    units, centres = segmented
    _save_segments(
        connection,
        kit.fake,
        department=1,
        cost_centre=None,
        units={units["A"].pk: "20"},
        centres={},
    )
    kit.fake.segment_value_remove(1, "20")

    with scope(tenant=tenant.pk):
        overview = segment_overview(
            connection=connection, segments=dimension_segments(dimension=fake_dimension(kit.fake))
        )
    broken = {row.label: row.broken for row in overview["business_unit"]}
    assert broken[f"A {units['A'].name}"] is True
    assert broken[f"B {units['B'].name}"] is False
    assert segment_settings(connection=connection).business_units == {units["A"].pk: "20"}  # kept

    invoice = _invoice(
        tenant, customer, statuses["Send"], [{"business_unit": units["A"], "vat_rate": Decimal(25)}]
    )
    run = sync(connection)

    (line,) = _remote_invoice(kit.fake, invoice, connection)["invoiceLines"]
    assert _segments_of(line) == {1: "", 2: ""}
    with scope(tenant=tenant.pk):
        reason = Transfer.objects.get(run=run, entity_type="invoice", outcome="created").reason
    assert "the value 20 matched to department A" in reason
    assert "is no longer in Visma.net ERP" in reason


def test_a_value_visma_net_lacks_cannot_be_matched(kit, connection, segmented):
    units, _centres = segmented
    with pytest.raises(ValidationError) as refused:
        _save_segments(
            connection,
            kit.fake,
            department=1,
            cost_centre=1,
            units={units["A"].pk: "99"},
            centres={},
        )
    assert set(refused.value.message_dict) == {"business_units", "cost_centre_segment"}
    assert segment_settings(connection=connection).department_segment is None


def test_the_fake_refuses_an_unknown_segment_value_on_an_invoice_line(kit, connection):
    from integrations.errors import PermanentError
    from integrations.tokens import access_token_for

    kit.fake.segment_add(1, "Avdeling", length=2)
    with scope(tenant=connection.tenant_id):
        client = VismaNetClient(access_token_for(connection=connection))
    client.create("customer", {"number": "1", "name": "A AS", "overrideNumberSeries": True})
    with pytest.raises(PermanentError, match="not valid for segment 1"):
        client.create(
            "customerinvoice",
            {
                "customerNumber": "1",
                "invoiceLines": [
                    {
                        "operation": "Insert",
                        "quantity": {"value": 1},
                        "unitPriceInCurrency": {"value": 10},
                        "vatCodeId": {"value": "3"},
                        "subaccount": [{"segmentId": 1, "segmentValue": "77"}],
                    }
                ],
            },
        )


# ---------------------------------------------------------------------------- invoices
def test_norwegian_vat_codes_and_paid_status_back(kit, connection, tenant, statuses, customer):
    with scopes_disabled():
        product = ProductFactory(tenant=tenant, code="300", name="Rådgivning", vat_rate=Decimal(25))
    invoice = _invoice(
        tenant,
        customer,
        statuses["Send"],
        [
            {
                "product": product,
                "quantity": Decimal(2),
                "unit_price": Decimal(1000),
                "vat_rate": Decimal(25),
            },
            {"quantity": Decimal(1), "unit_price": Decimal(100), "vat_rate": Decimal(15)},
            {"quantity": Decimal(1), "unit_price": Decimal(100), "vat_rate": Decimal(12)},
            {"quantity": Decimal(1), "unit_price": Decimal(100), "vat_rate": Decimal(0)},
        ],
    )

    first = sync(connection)

    assert first.status == SyncRunStatus.SUCCEEDED, first.error
    remote = _remote_invoice(kit.fake, invoice, connection)
    assert [line["vatCode"]["id"] for line in remote["invoiceLines"]] == ["3", "31", "33", "5"]
    assert remote["invoiceLines"][0]["inventoryNumber"] == "300"
    assert remote["amount"] == Decimal("2827.00")  # 2300 + VAT 500 + 15 + 12 + 0
    with scope(tenant=tenant.pk):
        invoice.refresh_from_db()
        assert invoice.status_id == statuses["Received"].pk

    kit.fake.invoice_release(remote["referenceNumber"])
    kit.fake.invoice_pay(remote["referenceNumber"], Decimal(1000))
    sync(connection)
    with scope(tenant=tenant.pk):
        invoice.refresh_from_db()
        assert invoice.status_id == statuses["Received"].pk  # balance left: not paid

    kit.fake.invoice_pay(remote["referenceNumber"])
    sync(connection)
    with scope(tenant=tenant.pk):
        invoice.refresh_from_db()
        assert invoice.status_id == statuses["Paid"].pk


def test_a_rate_without_a_norwegian_code_leaves_it_to_visma_net_and_says_so(
    kit, connection, tenant, statuses, customer
):
    invoice = _invoice(tenant, customer, statuses["Send"], [{"vat_rate": Decimal("25.5")}])

    run = sync(connection)

    (line,) = _remote_invoice(kit.fake, invoice, connection)["invoiceLines"]
    assert line["vatCode"]["id"] == "3"  # the ERP's default
    with scope(tenant=tenant.pk):
        reason = Transfer.objects.get(run=run, entity_type="invoice", outcome="created").reason
    assert "no Norwegian VAT code for 25.5 %" in reason


# ---------------------------------------------------------------------------- both ways
def test_customers_and_items_come_from_visma_net(kit, connection, tenant):
    from integrations.tokens import access_token_for

    with scopes_disabled():
        UnitFactory(tenant=tenant, code="TIME", name="Time")
    with scope(tenant=connection.tenant_id):
        client = VismaNetClient(access_token_for(connection=connection))
    client.create(
        "customer",
        {
            "number": "8100",
            "name": "Nordlys AS",
            "overrideNumberSeries": True,
            "corporateId": "923609016",
            "vatRegistrationId": "NO923609016MVA",
            "mainAddress": {
                "addressLine1": "Storgata 2",
                "postalCode": "9008",
                "city": "Tromsø",
                "countryId": "NO",
            },
        },
    )
    client.create(
        "inventory",
        {
            "inventoryNumber": "410",
            "description": "Reise",
            "salesUnit": "TIME",
            "baseUnit": "TIME",
            "defaultPrice": 950,
            "vatCode": "31",
        },
    )
    with scopes_disabled():
        connection.transfer_all_customers = True
        connection.save(update_fields=["transfer_all_customers"])

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    with scope(tenant=tenant.pk):
        customer = Customer.objects.get(number="8100")
        assert customer.organisation_number == "923609016"
        assert customer.addresses.get().city == "Tromsø"
        product = Product.objects.get(code="410")
        assert (product.price, product.vat_rate, product.unit.code) == (
            Decimal(950),
            Decimal(15),
            "TIME",
        )
    # A second run without changes writes nothing.
    writes = kit.writes()
    assert sync(connection).status == SyncRunStatus.SUCCEEDED
    assert kit.writes() == writes


def test_supplier_invoice_lines_become_project_fees_once(kit, connection, tenant, customer):
    with scopes_disabled():
        ProjectFactory(tenant=tenant, customer=customer, number="PR1")
        default = ProductFactory(tenant=tenant, code="900", name="Utlegg")
        connection.default_product_id = default.pk
        connection.save(update_fields=["default_product_id"])
    kit.fake.supplier_invoice_add(
        supplier="Hotell Bergen AS",
        lines=[
            {"project": "PR1", "description": "Hotell", "quantity": 2, "unitCost": "1250.00"},
            {"description": "Kontor", "unitCost": "300"},  # no project
        ],
    )
    kit.fake.supplier_invoice_add(
        supplier="Ikke frigitt AS", status="Balanced", lines=[{"project": "PR1", "unitCost": 5}]
    )

    sync(connection)
    sync(connection)

    with scope(tenant=tenant.pk):
        (fee,) = ProjectFee.objects.all()
    assert (fee.quantity, fee.unit_cost, fee.unit_price) == (
        Decimal(2),
        Decimal(1250),
        Decimal(1250),
    )
    assert fee.product == default and fee.is_billable
    assert "Hotell Bergen AS" in fee.description


def test_an_unmatched_invoice_row_still_transfers(
    kit, connection, segmented, tenant, statuses, customer
):
    units, _centres = segmented
    _save_segments(connection, kit.fake, department=1, cost_centre=None, units={}, centres={})
    invoice = _invoice(
        tenant, customer, statuses["Send"], [{"business_unit": units["C"], "vat_rate": Decimal(25)}]
    )

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED
    assert _remote_invoice(kit.fake, invoice, connection)
    with scope(tenant=tenant.pk):
        assert CustomerInvoice.objects.get(pk=invoice.pk).status_id == statuses["Received"].pk
