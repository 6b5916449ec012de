"""Money on the operator's pages is written for the page's language, like everywhere else."""

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from billing.models import Invoice
from subscriptions.models import OrderConfirmation, Price
from tests.factories import (
    OrderConfirmationFactory,
    SellerEntityFactory,
    catalog_create,
    invoice_create,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]
NBSP = "\xa0"


@pytest.fixture
def swedish_invoice(tenant):
    invoice = invoice_create(tenant, seller=SellerEntityFactory(name="Severa Sverige AB"))
    Invoice.objects.filter(pk=invoice.pk).update(
        currency="SEK", net=Decimal("1891.20"), vat=Decimal("472.80"), total=Decimal("2364.00")
    )
    return invoice


@pytest.mark.parametrize(
    ("language", "shown"),
    [("sv", f"2{NBSP}364,00{NBSP}kr"), ("fi", f"2{NBSP}364,00{NBSP}SEK"), ("en", "SEK2,364.00")],
)
def test_the_invoice_list_and_detail_write_money_for_the_language(
    verified_client, operator, swedish_invoice, language, shown
):
    client = verified_client(operator)
    for url in ("/operator/invoices/", f"/operator/invoices/{swedish_invoice.pk}/"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert shown in page, url
    if language != "en":
        assert "SEK2,364.00" not in page


def test_the_django_admin_lists_write_order_totals_and_prices_for_the_language(
    verified_client, operator, tenant
):
    with scopes_disabled():
        order = OrderConfirmationFactory(tenant=tenant)
        OrderConfirmation.objects.filter(pk=order.pk).update(
            currency="SEK", total=Decimal("2364.00")
        )
        catalog_create()
        Price.objects.filter(pk=Price.objects.order_by("pk").first().pk).update(
            currency="SEK", amount_per_month=Decimal("1250.00")
        )
    client = verified_client(operator)
    orders = client.get(
        "/admin/subscriptions/orderconfirmation/", HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode()
    assert f"2{NBSP}364,00{NBSP}kr" in orders
    prices = client.get("/admin/subscriptions/price/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert f"1{NBSP}250,00{NBSP}kr" in prices
    assert "1250.00" not in prices
