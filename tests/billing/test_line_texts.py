"""Line texts and VAT notes in the buyer's language (DESIGN §3.6, §3.7): an order, an invoice
and a credit note are written in their buyer's language when they are issued and never
change after; each line keeps its kind and params, which the API gives beside its text.
What is shown before anything is issued (the Agreement page, the changes scheduled) is in
the reader's language. Figures from the test catalog (Professional 30.00 EUR per seat)."""

import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled
from pypdf import PdfReader

from accounts.models import Role
from accounts.services import api_token_create
from billing.documents import invoice_html, invoice_pdf
from billing.issuing import credit_note_issue, invoice_reissue
from billing.models import Invoice, InvoiceKind
from severa import clock, line_texts
from subscriptions.documents import order_confirmation_pdf
from subscriptions.models import OrderConfirmation, OrderKind, ScheduledChange
from subscriptions.services import Desired, quote_confirm, quote_create
from tests.billing.einvoice.builders import buyer_create, invoice_issue, seller_create
from tests.factories import MembershipFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

SEATS_FI = "Professional, käyttäjälisenssit"
ADDITIONAL_FI = "Professional, lisää käyttäjälisenssejä"
ADDITIONAL_SV = "Professional, ytterligare användarlicenser"
PROFESSIONAL = {"edition": "Professional", "edition_code": "professional"}
REVERSE_CHARGE_SV = "Omvänd betalningsskyldighet: momsdirektivet 2006/112/EG art. 196"


def pdf_text(pdf: bytes) -> str:
    # Whitespace ignored: extraction puts spaces where kerning leaves gaps.
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def squeezed(value: str) -> str:
    return re.sub(r"\s+", "", value)


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# The texts.


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "File storage 500 GB to 100 GB"),
        ("fi", "Tiedostojen tallennustila 100 GB (aiemmin 500 GB)"),
        ("sv", "Fillagring 100 GB (tidigare 500 GB)"),
        ("nb", "Fillagring 100 GB (tidligere 500 GB)"),
    ],
)
def test_a_line_is_rendered_from_its_kind_and_params_in_a_language(language, expected):
    params = {"from_gb": 500, "to_gb": 100}
    assert line_texts.line_text("storage_change", params, language=language) == expected


def test_every_kind_has_its_text_in_every_language():
    params = {
        "from_edition": "Business",
        "to_edition": "Professional",
        "edition": "Professional",
        "from_gb": 500,
        "to_gb": 100,
        "gb": 50,
        "add_on": "Travel and expenses",
        "interface": "Fortnox",
        "from_seats": 10,
        "to_seats": 6,
    }
    for kind in line_texts.LINE_KINDS:
        english = line_texts.line_text(kind, params, language="en")
        assert english
        for language in ("fi", "sv", "nb"):
            text = line_texts.line_text(kind, params, language=language)
            if kind in line_texts.NAME_ONLY:
                # A product name alone: the catalog's name in every language.
                assert text == english
            else:
                assert text != english, (kind, language)
    for kind in line_texts.VAT_NOTES:
        english = line_texts.vat_note_text(kind, language="en")
        for language in ("fi", "sv", "nb"):
            assert line_texts.vat_note_text(kind, language=language) not in ("", english)


def test_free_text_and_params_that_do_not_fit_keep_the_stored_description():
    assert line_texts.line_text("", {}, language="fi", default="Setup fee") == "Setup fee"
    assert line_texts.line_text("storage_change", {"gb": 5}, default="Old") == "Old"
    assert line_texts.line_text("no_such_kind", {}, default="Old") == "Old"
    assert line_texts.vat_note_text("", language="fi", default="Custom") == "Custom"


# Issued documents: the buyer's language, once.


@pytest.fixture
def finnish_invoice(unscoped):
    """A Finnish tenant's invoice of an activation (2 seats) and a change to 4 seats."""
    tenant = buyer_create("FI", language="fi")
    return invoice_issue(tenant=tenant, seller=seller_create("FI"), seats=2, upgrade_to_seats=4)


def test_a_finnish_buyers_orders_are_written_in_finnish(finnish_invoice):
    tenant = finnish_invoice.tenant
    change = OrderConfirmation.objects.get(tenant=tenant, kind=OrderKind.CHANGE)
    line = change.lines.get()
    assert (line.description, line.text_kind, line.params) == (
        ADDITIONAL_FI,
        "seats_additional",
        {"edition": "Professional", "edition_code": "professional"},
    )
    activation = OrderConfirmation.objects.get(tenant=tenant, kind=OrderKind.ACTIVATION)
    assert [line.description for line in activation.lines.all()] == [SEATS_FI]
    # The next full period the order names is written in Finnish too.
    following = change.summary["next_period"]["lines"]
    assert [(line["description"], line["text_kind"]) for line in following] == [(SEATS_FI, "seats")]
    # The PDF shows the stored texts.
    text = pdf_text(order_confirmation_pdf(order=change))
    assert squeezed(ADDITIONAL_FI) in text
    assert "additionalseats" not in text


def test_a_finnish_buyers_invoice_is_written_in_finnish(finnish_invoice):
    lines = list(finnish_invoice.lines.order_by("position"))
    assert [(line.description, line.text_kind) for line in lines] == [
        (SEATS_FI, "seats"),
        (ADDITIONAL_FI, "seats_additional"),
    ]
    text = pdf_text(invoice_pdf(invoice=finnish_invoice))
    assert squeezed(SEATS_FI) in text
    assert squeezed(ADDITIONAL_FI) in text


def test_an_issued_document_does_not_change_when_the_buyer_changes_language(finnish_invoice):
    tenant = finnish_invoice.tenant
    tenant.language = "sv"
    tenant.save()

    invoice = Invoice.objects.get(pk=finnish_invoice.pk)
    assert [line.description for line in invoice.lines.order_by("position")] == [
        SEATS_FI,
        ADDITIONAL_FI,
    ]
    html = invoice_html(invoice=invoice)
    assert ADDITIONAL_FI in html
    assert ADDITIONAL_SV not in html
    change = OrderConfirmation.objects.get(tenant=tenant, kind=OrderKind.CHANGE)
    assert change.lines.get().description == ADDITIONAL_FI

    # A credit note issued now is a new document: written in the buyer's language of today.
    with clock.frozen(datetime.date(2024, 8, 26)):
        note = credit_note_issue(invoice=invoice, lines=None, actor=None)
    assert [line.description for line in note.lines.order_by("position")] == [
        "Professional, användarlicenser",
        ADDITIONAL_SV,
    ]
    assert [line.text_kind for line in note.lines.order_by("position")] == [
        "seats",
        "seats_additional",
    ]
    # The invoice it credits still reads as it was issued.
    assert ADDITIONAL_FI in invoice_html(invoice=Invoice.objects.get(pk=invoice.pk))


def test_a_reissued_invoice_is_written_in_the_buyers_language_of_its_day(finnish_invoice):
    tenant = finnish_invoice.tenant
    tenant.language = "nb"
    tenant.save()
    with clock.frozen(datetime.date(2024, 8, 26)):
        note, new = invoice_reissue(invoice=finnish_invoice, actor=None)
    expected = ["Professional, brukerlisenser", "Professional, ekstra brukerlisenser"]
    assert [line.description for line in new.lines.order_by("position")] == expected
    assert [line.description for line in note.lines.order_by("position")] == expected
    assert [line.params for line in new.lines.order_by("position")] == [
        line.params for line in finnish_invoice.lines.order_by("position")
    ]


def test_a_reverse_charged_swedish_buyer_gets_the_note_in_swedish(unscoped):
    tenant = buyer_create("SE", language="sv")
    invoice = invoice_issue(tenant=tenant, seller=seller_create("FI"), seats=1)

    assert (invoice.vat_note, invoice.vat_note_kind) == (REVERSE_CHARGE_SV, "reverse_charge")
    order = OrderConfirmation.objects.get(tenant=tenant)
    assert (order.vat_note, order.vat_note_kind) == (REVERSE_CHARGE_SV, "reverse_charge")
    assert squeezed(REVERSE_CHARGE_SV) in pdf_text(invoice_pdf(invoice=invoice))
    assert squeezed(REVERSE_CHARGE_SV) in pdf_text(order_confirmation_pdf(order=order))
    # Its credit note carries the note too, in the buyer's language of its day.
    tenant.language = "fi"
    tenant.save()
    with clock.frozen(datetime.date(2024, 8, 26)):
        note = credit_note_issue(invoice=invoice, lines=None, actor=None)
    assert note.kind == InvoiceKind.CREDIT_NOTE
    assert (note.vat_note, note.vat_note_kind) == (
        "Käännetty verovelvollisuus: ALV-direktiivi 2006/112/EY 196 art.",
        "reverse_charge",
    )
    assert Invoice.objects.get(pk=invoice.pk).vat_note == REVERSE_CHARGE_SV


def test_an_english_buyer_keeps_the_english_texts(unscoped):
    tenant = buyer_create("SE", language="en")
    invoice = invoice_issue(tenant=tenant, seller=seller_create("FI"), seats=1, upgrade_to_seats=2)
    assert [line.description for line in invoice.lines.order_by("position")] == [
        "Professional, seats",
        "Professional, additional seats",
    ]
    assert invoice.vat_note == "Reverse charge: VAT Directive 2006/112/EC article 196"


# The API gives the stored text, the kind and the params.


def _api(tenant, role=Role.BILLING):
    _token, key = api_token_create(user=MembershipFactory(tenant=tenant, role=role).user)
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.mark.usefixtures("no_two_factor")
def test_the_api_gives_each_lines_text_kind_and_params(finnish_invoice):
    tenant = finnish_invoice.tenant
    client = _api(tenant, role=Role.ADMIN)
    change = OrderConfirmation.objects.get(tenant=tenant, kind=OrderKind.CHANGE)

    order = client.get(f"/api/v1/tenants/{tenant.pk}/order-confirmations/{change.pk}").json()
    assert {key: order["lines"][0][key] for key in ("description", "kind", "params")} == {
        "description": ADDITIONAL_FI,
        "kind": "seats_additional",
        "params": {"edition": "Professional", "edition_code": "professional"},
    }
    invoice = client.get(f"/api/v1/tenants/{tenant.pk}/invoices/{finnish_invoice.pk}").json()
    assert [(line["description"], line["kind"], line["params"]) for line in invoice["lines"]] == [
        (SEATS_FI, "seats", PROFESSIONAL),
        (ADDITIONAL_FI, "seats_additional", PROFESSIONAL),
    ]
    assert (invoice["vat_note"], invoice["vat_note_kind"]) == ("", "")


# Before anything is issued: the reader's language.


@pytest.fixture
def subscription(tenant):
    with scopes_disabled():
        return SubscriptionFactory(tenant=tenant, seats=5)


def test_the_agreement_page_is_in_the_readers_language(
    verified_client, admin_user, tenant, subscription
):
    signed_in = verified_client(admin_user)
    with clock.frozen(datetime.date(2025, 6, 5)), scopes_disabled():
        quote = quote_create(
            subscription=subscription, desired=Desired(seats=7, storage_gb=50), actor=admin_user
        )
        path = reverse("tenant_agreement", args=[tenant.pk, quote.pk])
        finnish = page_text(signed_in.get(path, HTTP_ACCEPT_LANGUAGE="fi"))
        english = page_text(signed_in.get(path, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Professional, lisää käyttäjälisenssejä" in finnish
    assert "Tiedostojen tallennustila 50 GB (aiemmin 10 GB)" in finnish
    assert "Professional, additional seats" not in finnish
    assert "Professional, additional seats" in english
    assert "File storage 10 GB to 50 GB" in english


def test_scheduled_changes_are_shown_in_the_readers_language(
    verified_client, admin_user, tenant, subscription
):
    signed_in = verified_client(admin_user)
    with clock.frozen(datetime.date(2025, 6, 5)), scopes_disabled():
        quote = quote_create(subscription=subscription, desired=Desired(seats=3), actor=admin_user)
        quote_confirm(quote=quote, actor=admin_user)
        change = ScheduledChange.objects.get(subscription=subscription)
        # Confirmed by an English tenant: its stored text is English, its kind is kept.
        assert (change.description, change.text_kind, change.params) == (
            "Seats 5 to 3",
            "seats_decrease",
            {"from_seats": 5, "to_seats": 3},
        )
        finnish = page_text(
            signed_in.get(reverse("tenant_upgrades", args=[tenant.pk]), HTTP_ACCEPT_LANGUAGE="fi")
        )
    assert "Käyttäjälisenssejä 3 (aiemmin 5)" in finnish
    assert "Seats 5 to 3" not in finnish
    with translation.override("sv"):
        assert change.text == "Användarlicenser 3 (tidigare 5)"


@pytest.mark.usefixtures("no_two_factor")
def test_a_quote_in_the_api_is_in_the_readers_language(tenant, subscription):
    client = _api(tenant, role=Role.ADMIN)
    with clock.frozen(datetime.date(2025, 6, 5)), scopes_disabled():
        quote = quote_create(subscription=subscription, desired=Desired(seats=7), actor=None)
        path = f"/api/v1/tenants/{tenant.pk}/quotes/{quote.pk}"
        finnish = client.get(path, HTTP_ACCEPT_LANGUAGE="fi").json()
        english = client.get(path, HTTP_ACCEPT_LANGUAGE="en").json()
    assert [line["description"] for line in finnish["lines"]] == [ADDITIONAL_FI]
    assert [line["description"] for line in english["lines"]] == ["Professional, additional seats"]


def test_a_finnish_buyers_scheduled_changes_are_confirmed_in_finnish(tenant, subscription):
    tenant.language = "fi"
    tenant.save()
    with clock.frozen(datetime.date(2025, 6, 5)), scopes_disabled():
        quote = quote_create(subscription=subscription, desired=Desired(seats=3), actor=None)
        order = quote_confirm(quote=quote, actor=None)
        change = ScheduledChange.objects.get(subscription=subscription)
        text = pdf_text(order_confirmation_pdf(order=order))
    decrease = "Käyttäjälisenssejä 3 (aiemmin 5)"
    assert change.description == decrease
    assert [item["description"] for item in order.summary["scheduled"]] == [decrease]
    assert squeezed(decrease) in text
    assert "Seats5to3" not in text
