"""The operator's billing pages: billing runs, invoices (filters, detail, payments, credit
notes) and seller migrations. Operators only: anyone else gets a 404.

Invoices come from `tests.factories.invoice_create`: one line of 100.00 EUR net, 25.5 % VAT
(25.50), total 125.50, dated 2025-06-09."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

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
    BillingContactFactory,
    SellerEntityFactory,
    SubscriptionFactory,
    invoice_create,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]

PAGES = ["/operator/billing-runs/", "/operator/invoices/", "/operator/seller-migrations/"]


@pytest.fixture
def operator_client(verified_client, operator):
    return verified_client(operator)


@pytest.fixture
def invoice(tenant):
    return invoice_create(tenant, seller=SellerEntityFactory(name="Severa Finland Oy"))


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_are_for_operators_only(verified_client, admin_user, operator_client, page):
    assert operator_client.get(page).status_code == 200
    # The same browser signed in as a tenant admin instead.
    assert verified_client(admin_user).get(page).status_code == 404


def test_the_operator_home_links_the_pages(operator_client):
    html = operator_client.get("/operator/").content.decode()
    for page in PAGES:
        assert f'href="{page}"' in html


def test_billing_runs_list_kind_dates_status_counts_and_errors(operator_client):
    BillingRun.objects.create(
        kind="invoicing",
        run_date=datetime.date(2025, 6, 9),
        status="finished",
        started_at=clock.now(),
        finished_at=clock.now(),
        counts={"invoices": 12, "already_done": 0},
        errors=[{"tenant_id": 7, "message": "Seller X has no bank account in DKK"}],
    )
    BillingRun.objects.create(
        kind="rollover", run_date=datetime.date(2025, 6, 1), started_at=clock.now()
    )
    html = operator_client.get("/operator/billing-runs/").content.decode()
    assert "Invoicing run" in html and "Period rollover" in html
    assert "12 invoices issued" in html
    assert "Seller X has no bank account in DKK" in html
    filtered = operator_client.get("/operator/billing-runs/?kind=rollover").content.decode()
    assert "Period rollover" in filtered and "12 invoices issued" not in filtered


def test_invoices_filter_by_seller_status_company_and_dates(operator_client, tenant, other_tenant):
    finland = SellerEntityFactory(name="Severa Finland Oy")
    sweden = SellerEntityFactory(name="Severa Sverige AB")
    mine = invoice_create(tenant, seller=finland)
    theirs = invoice_create(other_tenant, seller=sweden)
    Invoice.objects.filter(pk=theirs.pk).update(
        status=InvoiceState.PAID, invoice_date=datetime.date(2025, 7, 7)
    )

    def numbers(query: str) -> set[str]:
        html = operator_client.get(f"/operator/invoices/?{query}").content.decode()
        return {n for n in (mine.display_number, theirs.display_number) if f">{n}<" in html}

    assert numbers("") == {mine.display_number, theirs.display_number}
    assert numbers(f"seller={sweden.pk}") == {theirs.display_number}
    assert numbers("status=paid") == {theirs.display_number}
    assert numbers("tenant=aalto") == {mine.display_number}
    assert numbers("date_from=2025-07-01") == {theirs.display_number}
    assert numbers("date_to=2025-06-30") == {mine.display_number}
    assert numbers("date_from=2025-07-01&date_to=2025-06-01") == set()


def test_the_invoice_list_is_paginated(operator_client, tenant):
    seller = SellerEntityFactory()
    for _ in range(51):
        invoice_create(tenant, seller=seller)
    first = operator_client.get("/operator/invoices/").content.decode()
    assert "Page 1 of 2" in first
    second = operator_client.get("/operator/invoices/?page=2")
    assert second.status_code == 200


def test_the_detail_registers_a_payment_and_refuses_an_overpayment(operator_client, invoice):
    url = f"/operator/invoices/{invoice.pk}/"
    page = operator_client.get(url).content.decode()
    assert "Professional, seats" in page and "Register a payment" in page
    refused = operator_client.post(
        f"{url}payments/", {"amount": "200.00", "paid_on": "2025-06-20", "reference": "x"}
    )
    assert refused.status_code == 400
    assert "exceeds the 125.50 EUR outstanding" in refused.content.decode()
    assert not Payment.objects.exists()
    response = operator_client.post(
        f"{url}payments/", {"amount": "125.50", "paid_on": "2025-06-20", "reference": "OP-1"}
    )
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.paid_on, payment.reference) == (
        Decimal("125.50"),
        datetime.date(2025, 6, 20),
        "OP-1",
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceState.PAID
    assert "OP-1" in operator_client.get(url).content.decode()


def test_a_refused_payment_stands_on_the_form_in_the_operators_language(operator_client, invoice):
    operator_client.cookies["django_language"] = "fi"
    refused = operator_client.post(
        f"/operator/invoices/{invoice.pk}/payments/",
        {"amount": "200.00", "paid_on": "2025-06-20", "reference": "x"},
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert (
        f"200.00 EUR ylittää laskun {invoice.display_number} avoimen summan 125.50 EUR" in page
    )
    assert "outstanding" not in page
    assert not Payment.objects.exists()


def test_the_detail_issues_a_partial_then_a_whole_credit_note(operator_client, invoice):
    line = invoice.lines.get()
    url = f"/operator/invoices/{invoice.pk}/credit-notes/"
    with clock.frozen(datetime.date(2025, 6, 12)):
        partial = operator_client.post(
            url, {"scope": "lines", f"line_{line.pk}": "40.00", "reason": "Two seats too many"}
        )
    assert partial.status_code == 302
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert partial["Location"] == f"/operator/invoices/{note.pk}/"
    assert (note.credited_invoice, note.net, note.vat, note.total) == (
        invoice,
        Decimal("-40.00"),
        Decimal("-10.20"),
        Decimal("-50.20"),
    )
    assert note.lines.get().credited_line == line
    page = operator_client.get(f"/operator/invoices/{invoice.pk}/").content.decode()
    assert note.display_number in page
    # More than the 60.00 left on the line is refused, and nothing is issued.
    refused = operator_client.post(url, {"scope": "lines", f"line_{line.pk}": "60.01"})
    assert refused.status_code == 400
    assert "has 60.00 EUR left to credit" in refused.content.decode()
    # The whole invoice credits what is left.
    with clock.frozen(datetime.date(2025, 6, 13)):
        assert operator_client.post(url, {"scope": "whole"}).status_code == 302
    notes = Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).order_by("pk")
    assert [n.net for n in notes] == [Decimal("-40.00"), Decimal("-60.00")]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceState.CREDITED


def test_a_credit_note_for_given_lines_needs_an_amount(operator_client, invoice):
    response = operator_client.post(
        f"/operator/invoices/{invoice.pk}/credit-notes/", {"scope": "lines"}
    )
    assert response.status_code == 400
    assert "Give the amount to credit on at least one line." in response.content.decode()
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


def test_credit_and_reissue_after_a_confirmation_delivers_both(
    operator_client, invoice, tenant, django_capture_on_commit_callbacks
):
    from accounts.models import OutboxMessage

    BillingContactFactory(tenant=tenant, email="ap@aalto.example")
    url = f"/operator/invoices/{invoice.pk}/reissue/"
    assert (
        'action="' + url + '"'
        in operator_client.get(f"/operator/invoices/{invoice.pk}/").content.decode()
    )
    # A bare POST shows the confirmation step and issues nothing.
    asked = operator_client.post(url)
    assert asked.status_code == 200
    assert "Credit and reissue invoice" in asked.content.decode()
    assert Invoice.objects.count() == 1
    with clock.frozen(datetime.date(2025, 6, 12)), django_capture_on_commit_callbacks(execute=True):
        done = operator_client.post(url, {"confirm": "yes"})
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    new = Invoice.objects.get(reissue_credit_note=note)
    assert done.status_code == 302
    assert done["Location"] == f"/operator/invoices/{new.pk}/"
    # 100.00 + 25.50 = 125.50 credited, and invoiced again on the 12th.
    assert (note.total, new.total, new.invoice_date) == (
        Decimal("-125.50"),
        Decimal("125.50"),
        datetime.date(2025, 6, 12),
    )
    assert new.number == note.number + 1
    page = operator_client.get(done["Location"]).content.decode()
    assert note.display_number in page and invoice.display_number in page
    assert (
        new.display_number in operator_client.get(f"/operator/invoices/{note.pk}/").content.decode()
    )
    # The billing contact gets both documents.
    keys = set(OutboxMessage.objects.values_list("dedupe_key", flat=True))
    assert {
        f"invoice:{note.pk}:link:ap@aalto.example",
        f"invoice:{new.pk}:link:ap@aalto.example",
    } <= keys
    # A second time is refused with the reason, and nothing more is issued.
    again = operator_client.post(url, {"confirm": "yes"}, follow=True)
    assert f"already reissued as {new.display_number}" in again.content.decode()
    assert Invoice.objects.count() == 3


def test_payment_and_credit_forms_answer_404_to_others(verified_client, admin_user, invoice):
    client = verified_client(admin_user)
    base = f"/operator/invoices/{invoice.pk}/"
    assert client.get(base).status_code == 404
    assert (
        client.post(f"{base}payments/", {"amount": "1", "paid_on": "2025-06-20"}).status_code == 404
    )
    assert client.post(f"{base}credit-notes/", {"scope": "whole"}).status_code == 404
    assert client.post(f"{base}reissue/", {"confirm": "yes"}).status_code == 404
    assert not Payment.objects.exists()


@pytest.fixture
def cohort_world(tenant, other_tenant):
    old = SellerEntityFactory(name="Severa Norge AS", business_id="974760673")
    new = SellerEntityFactory(name="Visma Solutions Oy", business_id="1967543-8")
    subscription = SubscriptionFactory(
        tenant=tenant,
        seller=old,
        period_start=datetime.date(2025, 5, 1),
        period_end=datetime.date(2025, 7, 31),
    )
    SubscriptionFactory(
        tenant=other_tenant,
        seller=old,
        period_start=datetime.date(2025, 6, 1),
        period_end=datetime.date(2025, 8, 31),
    )
    BillingContactFactory(tenant=tenant, email="ap@aalto.example")
    return old, new, subscription


def test_schedule_a_cohort_see_its_items_and_notify(
    operator_client, cohort_world, tenant, django_capture_on_commit_callbacks
):
    old, new, _subscription = cohort_world
    with clock.frozen(datetime.date(2025, 6, 5)):
        response = operator_client.post(
            "/operator/seller-migrations/",
            {
                "from_seller": old.pk,
                "to_seller": new.pk,
                "cohort_start": "2025-08-01",
                "notice_days": "30",
            },
        )
    migration = SellerMigration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/operator/seller-migrations/{migration.pk}/"
    detail = operator_client.get(response["Location"]).content.decode()
    assert "Aalto Consulting Oy" in detail and "Charlie Competitor Oy" not in detail
    assert "E-mail the notice now" in detail
    listing = operator_client.get("/operator/seller-migrations/").content.decode()
    assert "Visma Solutions Oy" in listing
    with clock.frozen(datetime.date(2025, 6, 6)), django_capture_on_commit_callbacks(execute=True):
        notified = operator_client.post(f"/operator/seller-migrations/{migration.pk}/notify/")
    assert notified.status_code == 302
    assert [message.to for message in mail.outbox] == [["ap@aalto.example"]]
    migration.refresh_from_db()
    assert migration.status == SellerMigrationStatus.NOTIFIED
    assert "ap@aalto.example" in operator_client.get(notified["Location"]).content.decode()


def test_a_refused_cohort_shows_why(operator_client, cohort_world):
    old, new, _subscription = cohort_world
    new.bank_accounts.filter(currency="EUR").delete()
    with clock.frozen(datetime.date(2025, 6, 5)):
        response = operator_client.post(
            "/operator/seller-migrations/",
            {
                "from_seller": old.pk,
                "to_seller": new.pk,
                "cohort_start": "2025-08-01",
                "notice_days": "30",
            },
        )
    assert response.status_code == 400
    assert "Visma Solutions Oy has no bank account in EUR" in response.content.decode()
    assert not SellerMigration.objects.exists()


def test_cancel_a_cohort(operator_client, cohort_world, operator):
    from billing.migration import seller_migration_schedule

    old, new, _subscription = cohort_world
    with clock.frozen(datetime.date(2025, 6, 5)):
        migration = seller_migration_schedule(
            from_seller=old, to_seller=new, cohort_start=datetime.date(2025, 8, 1), actor=operator
        )
        response = operator_client.post(f"/operator/seller-migrations/{migration.pk}/cancel/")
    assert response.status_code == 302
    migration.refresh_from_db()
    assert migration.status == SellerMigrationStatus.CANCELLED


def test_terms_and_cohorts_in_the_django_admin(operator_client, cohort_world, operator):
    from billing.migration import seller_migration_schedule

    old, new, _subscription = cohort_world
    with clock.frozen(datetime.date(2025, 6, 5)):
        migration = seller_migration_schedule(
            from_seller=old, to_seller=new, cohort_start=datetime.date(2025, 8, 1), actor=operator
        )
    for url in (
        "/admin/billing/termsversion/add/",
        "/admin/billing/termsacceptance/",
        "/admin/billing/sellermigration/",
        f"/admin/billing/sellermigration/{migration.pk}/change/",
    ):
        assert operator_client.get(url).status_code == 200, url
