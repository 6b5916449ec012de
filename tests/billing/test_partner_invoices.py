"""Consolidated partner invoices (DESIGN §3.4, §3.5, §3.8): a partner that pays its
customers' orders gets one invoice per seller per run, its lines grouped by customer, VAT
decided by the partner as the buyer; the customers never see it.

Orders: the factory's two lines, 111.52 + 78.07 = 189.59 EUR net per order, made on
2025-06-05 and invoiced by the run of Monday 2025-06-09. Seller: Finnish (FI VAT 25.5 %).
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django_scopes import scope, scopes_disabled

from accounts.models import OutboxMessage
from billing.contacts import LastBillingContactError
from billing.documents import invoice_document, invoice_html
from billing.invoicing import payment_register
from billing.issuing import credit_note_issue
from billing.models import (
    BillingContact,
    BillingDetails,
    Invoice,
    InvoiceLine,
    InvoiceLink,
    InvoiceState,
)
from billing.runs import invoicing_run
from billing.scoping import partner_scope
from partners.services.billing import partner_billing_contact_remove
from severa import clock
from tests.factories import (
    MembershipFactory,
    OrderConfirmationFactory,
    PartnerFactory,
    SellerEntityFactory,
    SubscriptionFactory,
    TenantFactory,
)

pytestmark = [pytest.mark.django_db]

D = datetime.date
RUN_DAY = D(2025, 6, 9)
NEXT_RUN_DAY = D(2025, 6, 16)
ORDER_NET = Decimal("189.59")
CONTACTS = ["ap@partner.test", "controller@partner.test"]
LINK = re.compile(r"http://[^\s]+/links/invoices/([A-Za-z0-9_-]+)/")


def _order(tenant, seller, partner=None, **kwargs):
    subscription = SubscriptionFactory(tenant=tenant, seller=seller, invoice_partner=partner)
    return OrderConfirmationFactory(
        tenant=tenant, subscription=subscription, invoice_partner=partner, **kwargs
    )


@pytest.fixture
def world():
    with scopes_disabled():
        seller = SellerEntityFactory()
        partner = PartnerFactory(name="Nordic Reseller AB", country="SE", business_id="5560360793")
        BillingDetails.objects.create(
            partner=partner,
            street_address="Drottninggatan 1",
            postal_code="111 51",
            city="Stockholm",
            country="SE",
            vat_number="SE556036079301",
            updated_at=clock.now(),
        )
        for n, address in enumerate(CONTACTS):
            BillingContact.objects.create(
                partner=partner, email=address, name=f"Contact {n}", created_at=clock.now()
            )
        # Named so that the invoice's customer order (by name) differs from creation order.
        berg = TenantFactory(name="Berg Oy")
        aalto = TenantFactory(name="Aalto Oy")
        self_paying = TenantFactory(name="Itse Oy")
        _order(berg, seller, partner)
        _order(aalto, seller, partner)
        _order(self_paying, seller)
    return {
        "seller": seller,
        "partner": partner,
        "aalto": aalto,
        "berg": berg,
        "self_paying": self_paying,
    }


def _run(day, django_capture_on_commit_callbacks):
    at = datetime.datetime.combine(day, datetime.time(5), tzinfo=datetime.UTC)
    with django_capture_on_commit_callbacks(execute=True), clock.frozen(at):
        return invoicing_run(day=day)


def _invoices():
    with scopes_disabled():
        return list(Invoice.objects.order_by("number"))


def test_one_consolidated_invoice_per_seller_grouped_by_customer_with_partner_vat(
    world, django_capture_on_commit_callbacks
):
    run = _run(RUN_DAY, django_capture_on_commit_callbacks)
    assert run.counts["invoices"] == 2
    with scopes_disabled():
        partner_invoice = Invoice.objects.get(partner=world["partner"])
        own_invoice = Invoice.objects.get(tenant=world["self_paying"])
        assert not Invoice.objects.filter(tenant__in=[world["aalto"], world["berg"]]).exists()
        lines = list(partner_invoice.lines.order_by("position"))

        # Both customers' lines, customer by customer (by name), each keeping its customer.
        assert [(line.tenant_id, line.description) for line in lines] == [
            (world["aalto"].pk, "Professional seats: 2 more"),
            (world["aalto"].pk, "Resource planning add-on"),
            (world["berg"].pk, "Professional seats: 2 more"),
            (world["berg"].pk, "Resource planning add-on"),
        ]
        assert all(line.partner_id == world["partner"].pk for line in lines)
        # An SE partner with a valid VAT number buying from a FI seller: reverse charge,
        # although every customer is Finnish.
        assert {(line.vat_category, line.vat_rate) for line in lines} == {("AE", Decimal("0"))}
        assert "Reverse charge" in partner_invoice.vat_note
        assert partner_invoice.net == Decimal("379.18") == sum(line.net for line in lines)
        assert partner_invoice.vat == Decimal("0.00")
        assert partner_invoice.total == Decimal("379.18")
        assert partner_invoice.tenant_id is None
        assert partner_invoice.buyer_snapshot["name"] == "Nordic Reseller AB"
        assert partner_invoice.buyer_snapshot["vat_number"] == "SE556036079301"
        assert partner_invoice.buyer_snapshot["country"] == "SE"

        # The self-paying customer: its own invoice, Finnish VAT, as before.
        assert own_invoice.net == ORDER_NET
        assert own_invoice.vat == Decimal("48.35")
        assert own_invoice.total == Decimal("237.94")
        assert {line.vat_category for line in own_invoice.lines.all()} == {"S"}
        # One series, consecutive numbers.
        assert abs(partner_invoice.number - own_invoice.number) == 1
        assert partner_invoice.series == own_invoice.series

        document = invoice_document(invoice=partner_invoice, language="en")
        assert [(g.customer, len(g.lines), g.subtotal) for g in document.customer_groups] == [
            ("Aalto Oy", 2, ORDER_NET),
            ("Berg Oy", 2, ORDER_NET),
        ]
        html = invoice_html(invoice=partner_invoice)
        assert html.index("Aalto Oy") < html.index("Berg Oy")
        assert "Subtotal Aalto Oy" in html


def test_a_second_seller_gets_its_own_partner_invoice(world, django_capture_on_commit_callbacks):
    other_seller = SellerEntityFactory()
    with scopes_disabled():
        _order(TenantFactory(name="Cedar Oy"), other_seller, world["partner"])
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    with scopes_disabled():
        partner_invoices = Invoice.objects.filter(partner=world["partner"])
        assert sorted(i.seller_id for i in partner_invoices) == sorted(
            [world["seller"].pk, other_seller.pk]
        )
        assert partner_invoices.get(seller=other_seller).net == ORDER_NET


def test_running_twice_issues_nothing_twice(world, django_capture_on_commit_callbacks):
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    before = [(i.pk, i.number) for i in _invoices()]
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    later = _run(NEXT_RUN_DAY, django_capture_on_commit_callbacks)
    assert later.counts["invoices"] == 0
    assert [(i.pk, i.number) for i in _invoices()] == before
    with scopes_disabled():
        assert OutboxMessage.objects.filter(partner=world["partner"]).count() == 2


def test_the_database_refuses_a_second_partner_invoice_of_a_run(
    world, django_capture_on_commit_callbacks
):
    run = _run(RUN_DAY, django_capture_on_commit_callbacks)
    with scopes_disabled():
        invoice = Invoice.objects.get(partner=world["partner"])
        copy = Invoice.objects.get(pk=invoice.pk)
        copy.pk, copy.number = None, invoice.number + 100
        copy._state.adding = True
        assert copy.billing_run_id == run.pk
        with pytest.raises(IntegrityError), transaction.atomic():
            copy.save()
        # Neither a tenant nor a partner, or both: refused too.
        both = Invoice.objects.get(pk=invoice.pk)
        both.pk, both.number, both.billing_run = None, invoice.number + 101, None
        both.tenant = world["aalto"]
        both._state.adding = True
        with pytest.raises(IntegrityError), transaction.atomic():
            both.save()


def test_links_are_emailed_to_the_partners_contacts(world, django_capture_on_commit_callbacks):
    # The run's commit queues the delivery, and the delivery the relay (eager in tests).
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    # The two partner contacts only (the self-paying customer has nobody to send to here).
    assert len(mail.outbox) == 2
    partner_mail = [m for m in mail.outbox if m.to[0] in CONTACTS]
    assert sorted(m.to[0] for m in partner_mail) == CONTACTS
    with scopes_disabled():
        invoice = Invoice.objects.get(partner=world["partner"])
        assert invoice.status == InvoiceState.SENT
    assert all(invoice.display_number in m.subject for m in partner_mail)
    assert all("Nordic Reseller AB" in m.body for m in partner_mail)
    # The link opens the consolidated invoice without signing in.
    token = LINK.search(partner_mail[0].body).group(1)
    from django.test import Client

    page = Client().get(f"/links/invoices/{token}/")
    assert page.status_code == 200
    assert "Aalto Oy" in page.content.decode() and "Berg Oy" in page.content.decode()


def test_a_customer_never_sees_the_partner_invoice(
    world, django_capture_on_commit_callbacks, verified_client
):
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    with scopes_disabled():
        invoice = Invoice.objects.get(partner=world["partner"])
        admin = MembershipFactory(tenant=world["aalto"], role="admin").user
    # The tenant's scope shows neither the invoice nor its lines (which name the customer).
    with scope(tenant=world["aalto"].pk):
        assert not Invoice.objects.exists()
        assert not InvoiceLine.objects.exists()
        assert not InvoiceLink.objects.exists()
    client = verified_client(admin)
    tenant_id = world["aalto"].pk
    assert client.get(f"/t/{tenant_id}/billing/invoices/{invoice.pk}/").status_code == 404
    assert client.get(f"/t/{tenant_id}/billing/invoices/{invoice.pk}/pdf").status_code == 404
    listing = client.get(f"/t/{tenant_id}/billing/")
    assert listing.status_code == 200
    assert invoice.display_number not in listing.content.decode()
    api = client.get(f"/api/v1/tenants/{tenant_id}/invoices/{invoice.pk}")
    assert api.status_code == 404
    api_list = client.get(f"/api/v1/tenants/{tenant_id}/invoices")
    assert api_list.status_code == 200
    assert api_list.json()["results"] == []


def test_the_partner_scope_shows_only_the_partners_rows(world, django_capture_on_commit_callbacks):
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    other = PartnerFactory()
    with partner_scope(world["partner"]):
        assert Invoice.objects.count() == 1
        assert InvoiceLine.objects.count() == 4
        assert BillingContact.objects.count() == 2
    with partner_scope(other):
        assert not Invoice.objects.exists()
        assert not BillingDetails.objects.exists()


def test_credit_notes_and_payments_work_on_a_partner_invoice(
    world, django_capture_on_commit_callbacks
):
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    with scopes_disabled():
        invoice = Invoice.objects.get(partner=world["partner"])
        aalto_line = invoice.lines.get(position=1)
        with clock.frozen(datetime.datetime(2025, 6, 20, 9, tzinfo=datetime.UTC)):
            note = credit_note_issue(invoice=invoice, lines={aalto_line.pk: "11.52"}, actor=None)
            payment = payment_register(
                invoice=invoice,
                amount=Decimal("367.66"),
                paid_on=D(2025, 6, 20),
                reference="",
                actor=None,
            )
        assert note.partner_id == world["partner"].pk and note.tenant_id is None
        assert note.total == Decimal("-11.52")
        # The credit note's line keeps the customer it bills.
        assert note.lines.get().tenant_id == world["aalto"].pk
        assert payment.partner_id == world["partner"].pk
        invoice.refresh_from_db()
        assert invoice.status == InvoiceState.PAID


# The partner portal's billing pages and the API.


def _partner_user(partner):
    from tests.factories import PartnerMembershipFactory

    with scopes_disabled():
        return PartnerMembershipFactory(partner=partner).user


def test_the_api_lists_the_partners_invoices_with_lines_grouped_by_customer(
    world, django_capture_on_commit_callbacks, verified_client
):
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    with scopes_disabled():
        invoice = Invoice.objects.get(partner=world["partner"])
    client = verified_client(_partner_user(world["partner"]))
    partner_id = world["partner"].pk
    listing = client.get(f"/api/v1/partners/{partner_id}/invoices")
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == [invoice.pk]
    detail = client.get(f"/api/v1/partners/{partner_id}/invoices/{invoice.pk}").json()
    assert detail["total"] == "379.18"
    assert detail["buyer"]["name"] == "Nordic Reseller AB"
    assert [
        (c["name"], c["subtotal"], [line["net"] for line in c["lines"]])
        for c in detail["customers"]
    ] == [
        ("Aalto Oy", "189.59", ["111.52", "78.07"]),
        ("Berg Oy", "189.59", ["111.52", "78.07"]),
    ]
    assert detail["customers"][0]["tenant_id"] == world["aalto"].pk


def test_the_api_answers_404_to_others_and_for_other_invoices(
    world, django_capture_on_commit_callbacks, verified_client
):
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    with scopes_disabled():
        invoice = Invoice.objects.get(partner=world["partner"])
        own_invoice = Invoice.objects.get(tenant=world["self_paying"])
        customer_admin = MembershipFactory(tenant=world["aalto"], role="admin").user
    other_partner = PartnerFactory()
    partner_id = world["partner"].pk
    # A customer's admin and another partner's user: 404 for the partner and its invoice.
    for user in (customer_admin, _partner_user(other_partner)):
        client = verified_client(user)
        assert client.get(f"/api/v1/partners/{partner_id}/invoices").status_code == 404
        response = client.get(f"/api/v1/partners/{partner_id}/invoices/{invoice.pk}")
        assert response.status_code == 404
    # The partner's user: a tenant's own invoice is not under the partner.
    client = verified_client(_partner_user(world["partner"]))
    assert client.get(f"/api/v1/partners/{partner_id}/invoices/{own_invoice.pk}").status_code == 404
    assert (
        client.get(f"/api/v1/partners/{other_partner.pk}/invoices/{invoice.pk}").status_code == 404
    )


def test_the_api_is_in_the_openapi_schema(client):
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert '"/api/v1/partners/{partner_id}/invoices"' in text
    assert '"/api/v1/partners/{partner_id}/invoices/{invoice_id}"' in text
    assert "CustomerGroup" in text


def test_partner_pages_show_and_edit_billing_details_contacts_and_invoices(
    world, django_capture_on_commit_callbacks, verified_client
):
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    with scopes_disabled():
        invoice = Invoice.objects.get(partner=world["partner"])
    partner = world["partner"]
    client = verified_client(_partner_user(partner))
    page = client.get(f"/p/{partner.pk}/billing/")
    assert page.status_code == 200
    assert invoice.display_number in page.content.decode()
    assert "ap@partner.test" in page.content.decode()

    saved = client.post(
        f"/p/{partner.pk}/billing/",
        {
            "action": "details",
            "street_address": "Kungsgatan 2",
            "postal_code": "111 43",
            "city": "Stockholm",
            "country": "SE",
            "business_id": "5560360793",
            "vat_number": "SE556036079301",
        },
    )
    assert saved.status_code == 302
    refused = client.post(
        f"/p/{partner.pk}/billing/",
        {
            "action": "details",
            "street_address": "Kungsgatan 2",
            "postal_code": "111 43",
            "city": "Stockholm",
            "country": "SE",
            "business_id": "5560360793",
            "vat_number": "SE000000000001",
        },
    )
    assert refused.status_code == 200  # the form again, with the VAT number's error
    added = client.post(
        f"/p/{partner.pk}/billing/",
        {"action": "contact_external", "email": "Third@Partner.test", "name": "Third"},
    )
    assert added.status_code == 302
    with scopes_disabled():
        details = BillingDetails.objects.get(partner=partner)
        assert (details.street_address, details.vat_number) == ("Kungsgatan 2", "SE556036079301")
        assert sorted(c.email for c in BillingContact.objects.filter(partner=partner)) == [
            "ap@partner.test",
            "controller@partner.test",
            "third@partner.test",
        ]
        third = BillingContact.objects.get(partner=partner, email="third@partner.test")
    remove_url = f"/p/{partner.pk}/billing/contacts/{third.pk}/remove/"
    asked = client.post(remove_url)
    assert "Remove third@partner.test as a billing contact?" in asked.content.decode()
    with scopes_disabled():
        assert BillingContact.objects.filter(pk=third.pk).exists()
    removed = client.post(remove_url, {"confirm": "yes"})
    assert removed.status_code == 302
    with scopes_disabled():
        assert not BillingContact.objects.filter(pk=third.pk).exists()

    detail = client.get(f"/p/{partner.pk}/billing/invoices/{invoice.pk}/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert body.index("Aalto Oy") < body.index("Berg Oy")
    pdf = client.get(f"/p/{partner.pk}/billing/invoices/{invoice.pk}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_partner_pages_answer_404_to_outsiders(
    world, django_capture_on_commit_callbacks, verified_client
):
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    with scopes_disabled():
        invoice = Invoice.objects.get(partner=world["partner"])
        own_invoice = Invoice.objects.get(tenant=world["self_paying"])
        customer_admin = MembershipFactory(tenant=world["aalto"], role="admin").user
        contact = BillingContact.objects.filter(partner=world["partner"]).first()
    partner_id = world["partner"].pk
    client = verified_client(customer_admin)
    for path in (
        f"/p/{partner_id}/billing/",
        f"/p/{partner_id}/billing/invoices/{invoice.pk}/",
        f"/p/{partner_id}/billing/invoices/{invoice.pk}/pdf",
    ):
        assert client.get(path).status_code == 404
    assert (
        client.post(
            f"/p/{partner_id}/billing/contacts/{contact.pk}/remove/", {"confirm": "yes"}
        ).status_code
        == 404
    )
    member = verified_client(_partner_user(world["partner"]))
    assert member.get(f"/p/{partner_id}/billing/invoices/{own_invoice.pk}/").status_code == 404


def test_operators_see_partner_invoices_and_register_payments_and_credit_notes(
    world, django_capture_on_commit_callbacks, verified_client, operator
):
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    with scopes_disabled():
        invoice = Invoice.objects.get(partner=world["partner"])
    client = verified_client(operator)
    listing = client.get("/operator/invoices/?tenant=nordic")
    assert listing.status_code == 200
    assert invoice.display_number in listing.content.decode()
    page = client.get(f"/operator/invoices/{invoice.pk}/")
    assert page.status_code == 200
    assert "Nordic Reseller AB" in page.content.decode()
    with clock.frozen(datetime.datetime(2025, 6, 20, 9, tzinfo=datetime.UTC)):
        paid = client.post(
            f"/operator/invoices/{invoice.pk}/payments/",
            {"amount": "100.00", "paid_on": "2025-06-20", "reference": ""},
        )
        credited = client.post(
            f"/operator/invoices/{invoice.pk}/credit-notes/", {"scope": "whole", "reason": "x"}
        )
    assert paid.status_code == 302 and credited.status_code in (200, 302)
    with scopes_disabled():
        assert invoice.payments.get().amount == Decimal("100.00")
        assert invoice.payments.get().partner_id == world["partner"].pk
    # The API answers the operator too.
    api = client.get(f"/api/v1/partners/{world['partner'].pk}/invoices/{invoice.pk}")
    assert api.status_code == 200
    assert client.get("/operator/outbox/").status_code == 200


def test_a_partner_with_a_peppol_id_gets_the_consolidated_invoice_as_peppol_ubl(
    world, django_capture_on_commit_callbacks
):
    from billing.models import EInvoiceDelivery

    with scopes_disabled():
        BillingDetails.objects.filter(partner=world["partner"]).update(peppol_id="0007:5560360793")
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    with scopes_disabled():
        invoice = Invoice.objects.get(partner=world["partner"])
        delivery = EInvoiceDelivery.objects.get(invoice=invoice)
        assert (delivery.channel, delivery.partner_id, delivery.tenant_id) == (
            "peppol",
            world["partner"].pk,
            None,
        )
        # The self-paying customer has no e-invoice address: none for it.
        assert EInvoiceDelivery.objects.count() == 1
    ubl = bytes(delivery.document).decode()
    assert "Nordic Reseller AB" in ubl
    assert "5560360793" in ubl
    assert "Aalto Oy: Professional seats: 2 more" in ubl
    assert "Berg Oy: Resource planning add-on" in ubl
    assert '<cbc:PayableAmount currencyID="EUR">379.18</cbc:PayableAmount>' in ubl
    assert "<cbc:BuyerReference>P" in ubl


def test_removing_a_partner_contact_revokes_its_links_and_the_last_one_stays(
    world, django_capture_on_commit_callbacks
):
    _run(RUN_DAY, django_capture_on_commit_callbacks)
    with scopes_disabled():
        first, second = BillingContact.objects.filter(partner=world["partner"]).order_by("pk")
    partner_billing_contact_remove(contact=first, actor=None)
    with scopes_disabled():
        link = InvoiceLink.objects.get(email=CONTACTS[0])
        assert link.revoked_at is not None and link.contact_id is None
        assert InvoiceLink.objects.get(email=CONTACTS[1]).revoked_at is None
    with pytest.raises(LastBillingContactError):
        partner_billing_contact_remove(contact=second, actor=None)


def test_a_partner_invoice_is_reissued_with_each_customers_lines(
    world, django_capture_on_commit_callbacks
):
    from billing.issuing import invoice_reissue

    _run(RUN_DAY, django_capture_on_commit_callbacks)
    with scopes_disabled():
        invoice = Invoice.objects.get(partner=world["partner"])
        with clock.frozen(datetime.datetime(2025, 6, 20, 9, tzinfo=datetime.UTC)):
            note, new = invoice_reissue(invoice=invoice, actor=None)
        assert (new.partner_id, new.tenant_id) == (world["partner"].pk, None)
        assert (note.total, new.total, new.vat) == (-invoice.total, invoice.total, invoice.vat)
        assert new.vat_note == invoice.vat_note
        old_lines = list(invoice.lines.order_by("position"))
        new_lines = list(new.lines.order_by("position"))
        assert [(line.tenant_id, line.net) for line in new_lines] == [
            (line.tenant_id, line.net) for line in old_lines
        ]
        aalto, berg = world["aalto"].pk, world["berg"].pk
        assert [line.tenant_id for line in new_lines] == [aalto, aalto, berg, berg]
        assert all(line.partner_id == world["partner"].pk for line in new_lines)
