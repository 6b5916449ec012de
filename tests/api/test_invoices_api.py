"""The invoice API (/api/v1/tenants/{id}/invoices …), billing runs and seller migrations.

Invoices come from `tests.factories.invoice_create`: one line "Professional, seats" for
2025-06-01..2025-06-30, 100.00 EUR net, 25.5 % VAT (25.50), total 125.50, dated 2025-06-09,
due 2025-06-23.
"""

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import Role
from accounts.services import api_token_create
from billing.models import (
    BillingRun,
    Invoice,
    InvoiceKind,
    InvoiceState,
    Payment,
    SellerMigration,
    SellerMigrationStatus,
)
from severa import clock
from tests.factories import (
    MembershipFactory,
    SellerEntityFactory,
    SubscriptionFactory,
    invoice_create,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped", "no_two_factor")]


def api_client(user) -> Client:
    _token, key = api_token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client, path, body=None, **headers):
    return client.post(path, body or {}, content_type="application/json", headers=headers)


@pytest.fixture
def seller():
    return SellerEntityFactory(name="Severa Finland Oy", business_id="2464491-9")


@pytest.fixture
def invoice(tenant, seller):
    return invoice_create(tenant, seller=seller)


@pytest.fixture
def other_invoice(other_tenant, seller):
    return invoice_create(other_tenant, seller=seller)


@pytest.fixture
def billing_api(tenant):
    return api_client(MembershipFactory(tenant=tenant, role=Role.BILLING).user)


@pytest.fixture
def operator_api(operator):
    return api_client(operator)


def base(tenant) -> str:
    return f"/api/v1/tenants/{tenant.pk}/invoices"


def test_billing_users_list_their_tenants_invoices_with_a_status_filter(
    billing_api, tenant, invoice, other_invoice
):
    paid = invoice_create(tenant, seller=invoice.seller)
    Invoice.objects.filter(pk=paid.pk).update(status=InvoiceState.PAID)
    response = billing_api.get(base(tenant))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {row["id"] for row in body["results"]} == {invoice.pk, paid.pk}
    row = next(row for row in body["results"] if row["id"] == invoice.pk)
    assert row == {
        "id": invoice.pk,
        "number": invoice.display_number,
        "kind": "invoice",
        "status": "issued",
        "seller": {"code": "2464491-9", "name": "Severa Finland Oy"},
        "invoice_date": "2025-06-09",
        "due_date": "2025-06-23",
        "currency": "EUR",
        "net": "100.00",
        "vat": "25.50",
        "rounding": "0.00",
        "total": "125.50",
        "credited_amount": "0.00",
        "credited_invoice": None,
    }
    filtered = billing_api.get(f"{base(tenant)}?status=paid").json()
    assert [row["id"] for row in filtered["results"]] == [paid.pk]


def test_an_unknown_status_filter_is_a_400_in_the_error_format(billing_api, tenant):
    response = billing_api.get(f"{base(tenant)}?status=lost")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid", ["status"])


def test_the_invoice_detail_has_lines_vat_totals_and_its_credit_notes(billing_api, tenant, invoice):
    from billing.invoicing import payment_register
    from billing.issuing import credit_note_issue

    line = invoice.lines.get()
    with clock.frozen(datetime.date(2025, 6, 12)):
        note = credit_note_issue(invoice=invoice, lines={line.pk: Decimal("40.00")}, actor=None)
        payment_register(
            invoice=invoice,
            amount=Decimal("50.00"),
            paid_on=datetime.date(2025, 6, 20),
            reference="BANK-1",
            actor=None,
        )
    body = billing_api.get(f"{base(tenant)}/{invoice.pk}").json()
    assert body["number"] == invoice.display_number
    assert body["reference"] == "100000013"
    assert body["seller"]["code"] == "2464491-9"
    assert body["seller"]["name"] == invoice.seller.name
    assert body["buyer"]["name"] == tenant.name
    assert body["lines"] == [
        {
            "id": line.pk,
            "position": 1,
            "order_number": "",
            "description": "Professional, seats",
            "kind": "seats",
            "params": {"edition": "Professional"},
            "period_start": "2025-06-01",
            "period_end": "2025-06-30",
            "quantity": "1.00",
            "unit_price": "100.00",
            "vat_category": "S",
            "vat_rate": "25.50",
            "net": "100.00",
            "credited_line": None,
        }
    ]
    assert body["vat_breakdown"] == [
        {"category": "S", "rate": "25.50", "taxable": "100.00", "vat": "25.50"}
    ]
    assert (body["net"], body["vat"], body["rounding"], body["total"]) == (
        "100.00",
        "25.50",
        "0.00",
        "125.50",
    )
    # 125.50 - 50.20 credited - 50.00 paid
    assert (body["credited_amount"], body["paid_amount"], body["outstanding"]) == (
        "50.20",
        "50.00",
        "25.30",
    )
    assert [p["reference"] for p in body["payments"]] == ["BANK-1"]
    assert body["credit_notes"] == [
        {
            "id": note.pk,
            "number": note.display_number,
            "kind": "credit_note",
            "invoice_date": "2025-06-12",
            "total": "-50.20",
        }
    ]
    credit = billing_api.get(f"{base(tenant)}/{note.pk}").json()
    assert credit["kind"] == "credit_note"
    assert credit["credited_invoice"]["id"] == invoice.pk
    assert credit["lines"][0]["credited_line"] == line.pk
    assert credit["outstanding"] is None


def test_the_pdf_is_served(billing_api, tenant, invoice, monkeypatch):
    from billing import documents

    monkeypatch.setattr(documents, "invoice_pdf", lambda invoice: b"%PDF-1.7 test")
    response = billing_api.get(f"{base(tenant)}/{invoice.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f"invoice-{invoice.display_number}.pdf" in response["Content-Disposition"]


def test_another_tenants_invoice_is_a_404_and_members_get_403(
    billing_api, member_user, tenant, other_tenant, other_invoice, operator_api
):
    for path in ("", "/pdf"):
        assert billing_api.get(f"{base(tenant)}/{other_invoice.pk}{path}").status_code == 404
    assert billing_api.get(base(other_tenant)).status_code == 404
    assert api_client(member_user).get(base(tenant)).status_code == 403
    response = post(
        operator_api,
        f"{base(tenant)}/{other_invoice.pk}/payments",
        {"amount": "1.00", "paid_on": "2025-06-20"},
    )
    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_operators_register_payments_idempotently(operator_api, admin_user, tenant, invoice):
    url = f"{base(tenant)}/{invoice.pk}/payments"
    body = {"amount": "125.50", "paid_on": "2025-06-20", "reference": "BANK-42"}
    first = post(operator_api, url, body, **{"Idempotency-Key": "pay-42"})
    assert first.status_code == 201
    assert first.json()["amount"] == "125.50"
    assert first.json()["invoice_status"] == "paid"
    again = post(operator_api, url, body, **{"Idempotency-Key": "pay-42"})
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Payment.objects.count() == 1
    # The same key with another body is refused; a further payment is more than is due.
    reused = post(operator_api, url, {**body, "amount": "1.00"}, **{"Idempotency-Key": "pay-42"})
    assert (reused.status_code, reused.json()["error"]["code"]) == (422, "idempotency_key_reused")
    refused = post(operator_api, url, {**body, "amount": "1.00"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "payment_refused"
    assert Payment.objects.count() == 1
    # Tenant users may read, never register.
    forbidden = post(api_client(admin_user), url, body)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "permission_denied"


def test_operators_issue_partial_credit_notes(operator_api, admin_user, tenant, invoice):
    line = invoice.lines.get()
    url = f"{base(tenant)}/{invoice.pk}/credit-notes"
    with clock.frozen(datetime.date(2025, 6, 12)):
        response = post(
            operator_api,
            url,
            {"lines": {str(line.pk): "40.00"}, "reason": "Two seats too many"},
            **{"Idempotency-Key": "credit-1"},
        )
        replay = post(
            operator_api,
            url,
            {"lines": {str(line.pk): "40.00"}, "reason": "Two seats too many"},
            **{"Idempotency-Key": "credit-1"},
        )
    assert response.status_code == 201
    note = response.json()
    assert (note["kind"], note["net"], note["vat"], note["total"]) == (
        "credit_note",
        "-40.00",
        "-10.20",
        "-50.20",
    )
    assert note["credited_invoice"]["id"] == invoice.pk
    assert replay.json() == note
    assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1
    refused = post(operator_api, url, {"lines": {str(line.pk): "60.01"}})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "credit_note_refused"
    assert "60.00 EUR left to credit" in refused.json()["error"]["message"]
    not_a_line = post(operator_api, url, {"lines": {"first": "1.00"}})
    assert not_a_line.status_code == 400
    assert post(api_client(admin_user), url, {}).status_code == 403
    # Without lines: everything left.
    whole = post(operator_api, url, {})
    assert whole.status_code == 201
    assert whole.json()["net"] == "-60.00"
    invoice.refresh_from_db()
    assert invoice.status == InvoiceState.CREDITED


def test_operators_credit_and_reissue_an_invoice_once(
    operator_api, admin_user, billing_api, tenant, invoice
):
    url = f"{base(tenant)}/{invoice.pk}/reissue"
    assert post(api_client(admin_user), url, {}).status_code == 403
    assert post(billing_api, url, {}).status_code == 403
    with clock.frozen(datetime.date(2025, 6, 12)):
        response = post(
            operator_api, url, {"reason": "Wrong rounding"}, **{"Idempotency-Key": "r-1"}
        )
        replay = post(operator_api, url, {"reason": "Wrong rounding"}, **{"Idempotency-Key": "r-1"})
        again = post(operator_api, url, {}, **{"Idempotency-Key": "r-2"})
    assert response.status_code == 201
    body = response.json()
    note, new = body["credit_note"], body["invoice"]
    # 100.00 + 25.5 % VAT 25.50 = 125.50, credited in full and invoiced again today.
    assert (note["kind"], note["net"], note["vat"], note["total"]) == (
        "credit_note",
        "-100.00",
        "-25.50",
        "-125.50",
    )
    assert (new["kind"], new["net"], new["vat"], new["total"], new["invoice_date"]) == (
        "invoice",
        "100.00",
        "25.50",
        "125.50",
        "2025-06-12",
    )
    assert note["credited_invoice"]["id"] == invoice.pk
    assert note["reissue"]["id"] == new["id"]
    assert new["reissue_credit_note"]["id"] == note["id"]
    # Next in the seller's series (the factory's invoice is numbered outside it).
    issued = Invoice.objects.in_bulk([note["id"], new["id"]])
    assert issued[note["id"]].series == issued[new["id"]].series == invoice.seller.invoice_series
    assert issued[new["id"]].number == issued[note["id"]].number + 1
    assert replay.status_code == 201
    assert replay.json() == body
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "reissue_refused"
    assert f"already reissued as {new['number']}" in again.json()["error"]["message"]
    assert Invoice.objects.count() == 3
    refused = post(operator_api, f"{base(tenant)}/{note['id']}/reissue", {})
    assert refused.status_code == 422
    assert "not a credit note" in refused.json()["error"]["message"]


def test_billing_runs_for_operators_only(operator_api, admin_user):
    BillingRun.objects.create(
        kind="invoicing",
        run_date=datetime.date(2025, 6, 9),
        status="finished",
        started_at=clock.now(),
        counts={"invoices": 3},
        errors=[{"tenant_id": 5, "message": "No DKK account"}],
    )
    response = operator_api.get("/api/v1/billing-runs")
    assert response.status_code == 200
    run = response.json()["results"][0]
    assert (run["kind"], run["run_date"], run["status"], run["counts"]) == (
        "invoicing",
        "2025-06-09",
        "finished",
        {"invoices": 3},
    )
    assert run["errors"] == [{"tenant_id": 5, "message": "No DKK account"}]
    assert operator_api.get("/api/v1/billing-runs?kind=rollover").json()["count"] == 0
    assert api_client(admin_user).get("/api/v1/billing-runs").status_code == 403


@pytest.fixture
def cohort(tenant):
    old = SellerEntityFactory(name="Severa Norge AS", business_id="974760673")
    new = SellerEntityFactory(name="Visma Solutions Oy", business_id="1967543-8")
    SubscriptionFactory(
        tenant=tenant,
        seller=old,
        currency="NOK",
        period_start=datetime.date(2025, 5, 1),
        period_end=datetime.date(2025, 7, 31),
    )
    return old, new


def test_operators_schedule_and_list_seller_migrations(operator_api, admin_user, cohort, tenant):
    body = {"from_seller": "974760673", "to_seller": "1967543-8", "cohort_start": "2025-08-01"}
    with clock.frozen(datetime.date(2025, 6, 5)):
        response = post(operator_api, "/api/v1/seller-migrations", body, **{"Idempotency-Key": "m"})
        replay = post(operator_api, "/api/v1/seller-migrations", body, **{"Idempotency-Key": "m"})
    assert response.status_code == 201
    created = response.json()
    assert created["from_seller"] == {"code": "974760673", "name": "Severa Norge AS"}
    assert created["to_seller"] == {"code": "1967543-8", "name": "Visma Solutions Oy"}
    assert (created["cohort_start"], created["notice_days"], created["status"]) == (
        "2025-08-01",
        30,
        "scheduled",
    )
    assert created["items"] == {
        "scheduled": 1,
        "notified": 0,
        "switched": 0,
        "skipped": 0,
        "cancelled": 0,
    }
    assert replay.json() == created
    assert SellerMigration.objects.get().status == SellerMigrationStatus.SCHEDULED
    listing = operator_api.get("/api/v1/seller-migrations").json()
    assert [m["id"] for m in listing["results"]] == [created["id"]]
    assert post(api_client(admin_user), "/api/v1/seller-migrations", body).status_code == 403
    assert api_client(admin_user).get("/api/v1/seller-migrations").status_code == 403


def test_a_cohort_in_a_currency_without_an_account_is_a_422(operator_api, cohort):
    _old, new = cohort
    new.bank_accounts.filter(currency="NOK").delete()
    body = {"from_seller": "974760673", "to_seller": "1967543-8", "cohort_start": "2025-08-01"}
    with clock.frozen(datetime.date(2025, 6, 5)):
        response = post(operator_api, "/api/v1/seller-migrations", body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "migration_refused"
    assert error["message"].startswith("Visma Solutions Oy has no bank account in NOK")
    assert not SellerMigration.objects.exists()
    unknown = post(operator_api, "/api/v1/seller-migrations", {**body, "to_seller": "nope"})
    assert unknown.status_code == 400
    assert list(unknown.json()["error"]["fields"]) == ["to_seller"]
