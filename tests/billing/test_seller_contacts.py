"""Who to ask (seed 001): a seller's invoicing contact and support e-mail on the invoice PDF,
the link page, the order confirmation and the e-mails; the company's partner gives support
where it has one, and the Partners page and the API say who does."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import CollaborationStatus
from accounts.outbox import outbox_relay
from accounts.services import api_token_create
from billing.delivery_tasks import invoice_deliver_task
from billing.documents import invoice_pdf
from severa import clock
from subscriptions.delivery import order_confirmation_deliver
from subscriptions.documents import order_confirmation_pdf
from subscriptions.models import OrderConfirmation
from subscriptions.support import support_contact_of_tenant
from tests.billing.test_links import LINK
from tests.factories import (
    BillingContactFactory,
    BillingDetailsFactory,
    CollaborationFactory,
    PartnerFactory,
    SellerEntityFactory,
    SubscriptionFactory,
    invoice_issue_through_services,
)
from tests.subscriptions.test_order_documents import pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]
T0 = datetime.datetime(2024, 8, 19, 6, 0, tzinfo=datetime.UTC)
INVOICING = "invoicing@seller.test"
SUPPORT = "support@seller.test"


@pytest.fixture
def seller():
    return SellerEntityFactory(invoicing_email=INVOICING, support_email=SUPPORT)


@pytest.fixture
def invoice(tenant, seller):
    """Issued through the services; the upgrade on 2024-08-16 made an order confirmation."""
    BillingDetailsFactory(tenant=tenant)
    BillingContactFactory(tenant=tenant, email="ap@aalto.test", name="AP")
    return invoice_issue_through_services(tenant, seller=seller, upgrade_to_seats=3)


def test_the_invoice_freezes_the_sellers_contacts_and_its_pdf_prints_them(invoice):
    assert invoice.seller_snapshot["invoicing_email"] == INVOICING
    assert invoice.seller_snapshot["support_email"] == SUPPORT

    text = pdf_text(invoice_pdf(invoice=invoice))

    assert f"Questions about invoices: {INVOICING}" in text
    assert f"Support: {SUPPORT}" in text


def test_the_invoice_email_and_the_link_page_name_the_invoicing_team(invoice):
    with clock.frozen(T0):
        invoice_deliver_task.apply(
            kwargs={"tenant_id": invoice.tenant_id, "invoice_id": invoice.pk}
        ).get()
        outbox_relay()
    [message] = mail.outbox
    assert f"Questions about invoices: {INVOICING}" in message.body
    assert f"Support: {SUPPORT}" in message.body

    with clock.frozen(T0):
        page = Client().get(LINK.search(message.body).group(1)).content.decode()
    assert f"Questions about invoices: {INVOICING}" in page
    assert f"Support: {SUPPORT}" in page


def test_the_order_confirmation_pdf_and_email_name_them_too(invoice):
    order = OrderConfirmation.objects.filter(tenant=invoice.tenant).latest("pk")
    assert order.seller_snapshot["invoicing_email"] == INVOICING

    text = pdf_text(order_confirmation_pdf(order=order))
    assert f"Questions about invoices: {INVOICING}" in text

    with clock.frozen(T0):
        order_confirmation_deliver(order=order)
        outbox_relay()
    [message] = mail.outbox
    assert f"Questions about invoices: {INVOICING}" in message.body
    assert f"Support: {SUPPORT}" in message.body


def test_a_seller_without_contacts_prints_no_empty_labels(tenant):
    invoice = invoice_issue_through_services(tenant)
    assert "Questions about invoices" not in pdf_text(invoice_pdf(invoice=invoice))


def test_the_email_is_in_the_recipients_language(invoice, tenant):
    tenant.language = "fi"
    tenant.save()
    with clock.frozen(T0):
        invoice_deliver_task.apply(
            kwargs={"tenant_id": invoice.tenant_id, "invoice_id": invoice.pk}
        ).get()
        outbox_relay()
    [message] = mail.outbox
    assert f"Laskuja koskevat kysymykset: {INVOICING}" in message.body


# Who gives support.


def test_a_company_without_a_partner_is_supported_by_its_seller(tenant, seller):
    SubscriptionFactory(tenant=tenant, seller=seller)
    contact = support_contact_of_tenant(tenant=tenant)
    assert (contact.name, contact.email, contact.is_partner) == (seller.name, SUPPORT, False)


def test_the_partner_of_an_active_collaboration_gives_support_a_pending_one_not(tenant, seller):
    SubscriptionFactory(tenant=tenant, seller=seller)
    partner = PartnerFactory(name="Numero Oy", support_email="help@numero.test")
    collaboration = CollaborationFactory(
        tenant=tenant, partner=partner, status=CollaborationStatus.PENDING
    )
    assert support_contact_of_tenant(tenant=tenant).is_partner is False

    collaboration.status = CollaborationStatus.ACTIVE
    collaboration.save()
    contact = support_contact_of_tenant(tenant=tenant)
    assert (contact.name, contact.email, contact.is_partner) == (
        "Numero Oy",
        "help@numero.test",
        True,
    )


def test_a_company_with_neither_has_no_support_contact(tenant):
    assert support_contact_of_tenant(tenant=tenant) is None


def test_the_partners_page_says_who_gives_support(tenant, seller, admin_user, client, settings):
    settings.TWO_FACTOR_REQUIRED = False
    SubscriptionFactory(tenant=tenant, seller=seller)
    client.force_login(admin_user)

    page = client.get(f"/t/{tenant.pk}/partners/").content.decode()
    assert f"you have no partner, so {seller.name} supports you" in page
    assert f'href="mailto:{SUPPORT}"' in page

    partner = PartnerFactory(name="Numero Oy", support_email="help@numero.test")
    CollaborationFactory(tenant=tenant, partner=partner, status=CollaborationStatus.ACTIVE)
    page = client.get(f"/t/{tenant.pk}/partners/").content.decode()
    assert "Numero Oy, your partner, supports you" in page
    assert 'href="mailto:help@numero.test"' in page
    assert SUPPORT not in page


def test_the_api_says_who_gives_support_and_lists_the_sellers_contacts(
    tenant, seller, admin_user, operator, other_tenant, settings
):
    settings.TWO_FACTOR_REQUIRED = False
    SubscriptionFactory(tenant=tenant, seller=seller)
    _token, key = api_token_create(user=admin_user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    response = api.get(f"/api/v1/tenants/{tenant.pk}/support")
    assert response.status_code == 200
    assert response.json() == {"name": seller.name, "email": SUPPORT, "is_partner": False}
    assert api.get(f"/api/v1/tenants/{other_tenant.pk}/support").status_code in (403, 404)

    _token, key = api_token_create(user=operator)
    [row] = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/sellers").json()["results"]
    assert (row["invoicing_email"], row["support_email"]) == (INVOICING, SUPPORT)


def test_the_api_answers_404_for_a_company_with_no_subscription_and_no_partner(
    tenant, admin_user, settings
):
    settings.TWO_FACTOR_REQUIRED = False
    _token, key = api_token_create(user=admin_user)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get(
        f"/api/v1/tenants/{tenant.pk}/support"
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_subscription"


def test_the_invoice_api_shows_the_frozen_contacts(invoice, admin_user, settings):
    settings.TWO_FACTOR_REQUIRED = False
    with scopes_disabled():
        _token, key = api_token_create(user=admin_user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = api.get(f"/api/v1/tenants/{invoice.tenant_id}/invoices/{invoice.pk}").json()
    assert (body["seller"]["invoicing_email"], body["seller"]["support_email"]) == (
        INVOICING,
        SUPPORT,
    )
    assert re.fullmatch(r"\S+@\S+", body["seller"]["invoicing_email"])
