"""Property: every invoice and credit note the real invoice builder issues gives a valid
Finvoice and a valid Peppol BIS document, whatever the seats, prices, currencies, period
lengths, countries, cash rounding, names and credits.

Each example creates a seller and a buyer, a subscription at a random price (a price row
valid from 2024-01-01 overrides the test catalog's), optionally a mid-period upgrade,
issues the weekly run's invoice (before or after the Finnish rate change of 2024-09-01)
and optionally credits it in whole or in part; then validates both documents of every
invoice and credit note. Each example runs in a savepoint that is rolled back.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.einvoice import invoice_finvoice, invoice_ubl
from billing.issuing import credit_note_issue
from billing.models import Invoice
from severa import clock
from subscriptions.models import Edition, Price
from tests.billing.einvoice.builders import (
    BUYERS,
    CURRENCIES,
    SELLERS,
    buyer_create,
    invoice_issue,
    seller_create,
)
from tests.factories import catalog_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]

NAME_CHARACTERS = "AaBbKkOoYyÅåÄäÖöÆæØøÜüß&<>\"' -.,Łź"
MAVENTA = "003721291126"

names = st.text(alphabet=NAME_CHARACTERS, min_size=2, max_size=60).filter(
    lambda name: len(name.strip()) >= 2
)


@st.composite
def scenarios(draw):
    buyer_country = draw(st.sampled_from(sorted(BUYERS)))
    return {
        "seller_country": draw(st.sampled_from(sorted(SELLERS))),
        "buyer_country": buyer_country,
        "currency": draw(st.sampled_from(CURRENCIES)),
        "cash_rounding": draw(st.booleans()),
        "price": draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2500"), places=2)),
        "seats": draw(st.integers(min_value=1, max_value=60)),
        "added_seats": draw(st.none() | st.integers(min_value=1, max_value=25)),
        "period_months": draw(st.sampled_from([1, 3, 6, 12])),
        "invoice_date": draw(
            st.sampled_from([datetime.date(2024, 8, 19), datetime.date(2024, 9, 2)])
        ),
        "seller_name": draw(names),
        "buyer_name": draw(names),
        "routing": draw(
            st.sampled_from(["none", "peppol"] + (["finvoice"] if buyer_country == "FI" else []))
        ),
        "credit": draw(st.sampled_from([None, "whole", "part"])),
        "credit_percent": draw(st.integers(min_value=1, max_value=100)),
    }


def _issue(scenario) -> list[Invoice]:
    catalog_create()
    Price.objects.create(
        edition=Edition.objects.get(code="professional"),
        currency=scenario["currency"],
        amount_per_month=scenario["price"],
        valid_from=datetime.date(2024, 1, 1),
    )
    seller = seller_create(
        scenario["seller_country"],
        cash_rounding=scenario["cash_rounding"],
        name=scenario["seller_name"],
    )
    routing = {
        "none": {},
        "finvoice": {"einvoice_address": "003701120389", "einvoice_operator": MAVENTA},
        "peppol": {"peppol_id": "0088:7350053850019"},
    }[scenario["routing"]]
    tenant = buyer_create(scenario["buyer_country"], name=scenario["buyer_name"], **routing)
    seats = scenario["seats"]
    added = scenario["added_seats"]
    invoice = invoice_issue(
        tenant=tenant,
        seller=seller,
        currency=scenario["currency"],
        seats=seats,
        upgrade_to_seats=seats + added if added else None,
        invoice_date=scenario["invoice_date"],
        period_months=scenario["period_months"],
    )
    documents = [invoice]
    if scenario["credit"] is not None:
        with clock.frozen(scenario["invoice_date"] + datetime.timedelta(days=3)):
            if scenario["credit"] == "whole":
                lines = None
            else:
                line = invoice.lines.order_by("-position").first()
                share = (line.net * scenario["credit_percent"] / 100).quantize(Decimal("0.01"))
                lines = {line.pk: max(share, Decimal("0.01"))}
            documents.append(credit_note_issue(invoice=invoice, lines=lines, actor=None))
    return documents


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_every_issued_invoice_and_credit_note_validates(
    scenario, assert_finvoice_valid, assert_ubl_valid
):
    with transaction.atomic():
        for document in _issue(scenario):
            assert document is not None
            assert document.net + document.vat + document.rounding == document.total
            assert_finvoice_valid(invoice_finvoice(document))
            assert_ubl_valid(invoice_ubl(document))
        transaction.set_rollback(True)
