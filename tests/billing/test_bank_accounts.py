"""Where to pay (seed 001): a seller's bank account has a bank name and the domestic numbers
payers in its country expect (a Norwegian 11-digit account number with its MOD11 check, a
Swedish bankgiro or plusgiro), checked on entry and shown to buyers in that country; the
company's own account is kept with its billing details as an IBAN."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_scopes import scopes_disabled

from accounts.services import api_token_create
from billing.admin import SellerBankAccountForm
from billing.bank_accounts import domestic_payment_details, seller_bank_account_clean
from billing.documents import invoice_html, invoice_pdf
from billing.models import BillingDetails, SellerBankAccount
from severa.identifiers import IdentifierError
from severa.identifiers.bank import (
    bankgiro_clean,
    iban_clean,
    norwegian_account_clean,
    plusgiro_clean,
)
from tests.factories import (
    BillingDetailsFactory,
    SellerEntityFactory,
    TenantFactory,
    invoice_issue_through_services,
)
from tests.subscriptions.test_order_documents import pdf_text

pytestmark = [pytest.mark.django_db]

# The example accounts: a Norwegian IBAN and the 11-digit account inside it.
NO_IBAN, NO_ACCOUNT = "NO9386011117947", "86011117947"
SE_IBAN = "SE4550000000058398257466"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("8601.11.17947", NO_ACCOUNT), ("8601 11 17947", NO_ACCOUNT), ("", "")],
)
def test_a_norwegian_account_number_is_stored_as_its_11_digits(typed, stored):
    assert norwegian_account_clean(typed) == stored


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("8601.11.17948", "Invalid checksum"),
        ("8601.11.1794", "Invalid length"),
        ("8601.11.1794X", "Invalid format"),
    ],
)
def test_a_wrong_norwegian_account_number_is_refused_with_the_reason(typed, reason):
    with pytest.raises(IdentifierError) as error:
        norwegian_account_clean(typed)
    assert error.value.message.startswith(reason)


def test_bankgiro_and_plusgiro_numbers_carry_a_luhn_check_digit():
    assert bankgiro_clean("1234-5674") == "12345674"
    assert bankgiro_clean("123-4566") == "1234566"
    assert plusgiro_clean("410681-1") == "4106811"
    with pytest.raises(IdentifierError, match="Invalid checksum"):
        bankgiro_clean("1234-5675")
    with pytest.raises(IdentifierError, match="Invalid length"):
        bankgiro_clean("12345")
    with pytest.raises(IdentifierError, match="Invalid checksum"):
        plusgiro_clean("410681-2")


def test_an_iban_is_stored_compact_and_a_typo_refused():
    assert iban_clean("no93 8601 1117 947") == NO_IBAN
    with pytest.raises(IdentifierError, match="Invalid checksum"):
        iban_clean("NO9386011117948")


def test_a_norwegian_account_number_must_be_the_one_inside_the_iban():
    clean = seller_bank_account_clean(
        currency="NOK",
        data={
            "iban": NO_IBAN,
            "bic": "dnbanokk",
            "bank_name": "DNB",
            "domestic_account_number": "8601.11.17947",
        },
    )
    assert clean == {
        "iban": NO_IBAN,
        "bic": "DNBANOKK",
        "bank_name": "DNB",
        "domestic_account_number": NO_ACCOUNT,
        "bankgiro": "",
        "plusgiro": "",
    }
    with pytest.raises(ValidationError) as error:
        seller_bank_account_clean(
            currency="NOK",
            data={"iban": NO_IBAN, "bic": "DNBANOKK", "domestic_account_number": "1234.56.78903"},
        )
    assert error.value.message_dict["domestic_account_number"] == [
        "This is not the account of IBAN NO9386011117947, whose account number is 8601.11.17947."
    ]
    with pytest.raises(ValidationError) as error:
        seller_bank_account_clean(
            currency="EUR",
            data={
                "iban": "FI2112345600000785",
                "bic": "NDEAFIHH",
                "domestic_account_number": NO_ACCOUNT,
                "bankgiro": "1234-5674",
            },
        )
    assert set(error.value.message_dict) == {"domestic_account_number", "bankgiro"}


def test_the_admin_form_checks_the_account_and_stores_the_clean_forms():
    seller = SellerEntityFactory(bank_accounts=())
    form = SellerBankAccountForm(
        data={
            "seller": seller.pk,
            "currency": "SEK",
            "iban": SE_IBAN.lower(),
            "bic": "ESSESESS",
            "bank_name": "SEB",
            "bankgiro": "1234-5674",
            "plusgiro": "410681-2",
            "domestic_account_number": "",
        }
    )
    assert not form.is_valid()
    assert form.errors["plusgiro"][0].startswith("Invalid checksum")

    form = SellerBankAccountForm(
        data={**form.data, "plusgiro": "410681-1"}, instance=SellerBankAccount(seller=seller)
    )
    assert form.is_valid(), form.errors
    account = form.save()
    assert (account.iban, account.bankgiro, account.plusgiro) == (SE_IBAN, "12345674", "4106811")


def test_domestic_numbers_are_for_buyers_in_that_country():
    account = {"iban": NO_IBAN, "bankgiro": "12345674", "plusgiro": "4106811"}
    assert [(d.label, d.value) for d in domestic_payment_details(account, buyer_country="NO")] == [
        ("Account number", "8601.11.17947")
    ]
    assert [(d.label, d.value) for d in domestic_payment_details(account, buyer_country="SE")] == [
        ("Bankgiro", "1234-5674"),
        ("Plusgiro", "410681-1"),
    ]
    assert domestic_payment_details(account, buyer_country="FI") == ()


@pytest.fixture
def norwegian_invoice(unscoped):
    """A Norwegian company invoiced in NOK by a Finnish seller with a DNB account."""
    seller = SellerEntityFactory(bank_accounts=("EUR",))
    SellerBankAccount.objects.create(
        seller=seller,
        currency="NOK",
        iban=NO_IBAN,
        bic="DNBANOKK",
        bank_name="DNB Bank ASA",
        domestic_account_number=NO_ACCOUNT,
    )
    tenant = TenantFactory(country="NO", business_id="974760673", vat_number="NO974760673MVA")
    BillingDetailsFactory(tenant=tenant, country="NO", postal_code="0154", city="Oslo")
    return invoice_issue_through_services(tenant, seller=seller, currency="NOK")


def test_a_norwegian_buyers_invoice_shows_the_bank_and_the_account_number(norwegian_invoice):
    text = pdf_text(invoice_pdf(invoice=norwegian_invoice))
    assert "DNB Bank ASA" in text
    assert "Account number" in text and "8601.11.17947" in text
    assert "NO93 8601 1117 947" in text

    page = invoice_html(invoice=norwegian_invoice)
    assert "8601.11.17947" in page


def test_an_issued_invoice_keeps_the_bank_details_it_was_issued_with(norwegian_invoice):
    assert {
        key: norwegian_invoice.seller_snapshot[key]
        for key in ("iban", "bic", "bank_name", "domestic_account_number")
    } == {
        "iban": NO_IBAN,
        "bic": "DNBANOKK",
        "bank_name": "DNB Bank ASA",
        "domestic_account_number": NO_ACCOUNT,
    }
    SellerBankAccount.objects.filter(iban=NO_IBAN).update(bank_name="Renamed Bank ASA")

    text = pdf_text(invoice_pdf(invoice=norwegian_invoice))
    assert "DNB Bank ASA" in text and "Renamed" not in text


def test_a_finnish_buyer_sees_iban_and_bic_only(unscoped, tenant):
    seller = SellerEntityFactory(bank_accounts=())
    SellerBankAccount.objects.create(
        seller=seller,
        currency="EUR",
        iban="FI2112345600000785",
        bic="NDEAFIHH",
        bank_name="Nordea",
        domestic_account_number="",
    )
    invoice = invoice_issue_through_services(tenant, seller=seller)
    text = pdf_text(invoice_pdf(invoice=invoice))
    assert "Nordea" in text
    assert "Account number" not in text


def test_the_invoice_api_gives_the_bank_and_the_domestic_numbers(
    norwegian_invoice, settings, unscoped
):
    from tests.factories import MembershipFactory

    settings.TWO_FACTOR_REQUIRED = False
    admin = MembershipFactory(tenant=norwegian_invoice.tenant, role="admin").user
    _token, key = api_token_create(user=admin)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    seller = api.get(
        f"/api/v1/tenants/{norwegian_invoice.tenant_id}/invoices/{norwegian_invoice.pk}"
    ).json()["seller"]
    assert seller["bank_name"] == "DNB Bank ASA"
    assert seller["domestic_payment_details"] == [
        {"label": "Account number", "value": "8601.11.17947"}
    ]


# The company's own account.

ADDRESS = {
    "street_address": "Mannerheimintie 12 B",
    "postal_code": "00100",
    "city": "Helsinki",
    "country": "FI",
    "business_id": "1572860-0",
    "vat_number": "FI15728600",
}


@pytest.fixture
def api(client, admin_user, settings):
    settings.TWO_FACTOR_REQUIRED = False
    _token, key = api_token_create(user=admin_user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def _put(client, tenant, body):
    return client.put(
        f"/api/v1/tenants/{tenant.pk}/billing-details", body, content_type="application/json"
    )


def test_the_companys_bank_account_is_kept_as_a_compact_iban(api, tenant):
    response = _put(api, tenant, {**ADDRESS, "bank_account": "fi21 1234 5600 0007 85"})
    assert response.status_code == 200, response.json()
    assert response.json()["bank_account"] == "FI2112345600000785"
    with scopes_disabled():
        assert BillingDetails.objects.get(tenant=tenant).bank_account == "FI2112345600000785"


def test_a_wrong_bank_account_is_refused_and_nothing_saved(api, tenant):
    response = _put(api, tenant, {**ADDRESS, "bank_account": "FI2112345600000786"})
    assert response.status_code == 400
    assert "check digits of IBAN" in str(response.json())
    with scopes_disabled():
        assert not BillingDetails.objects.filter(tenant=tenant).exists()


def test_the_billing_details_page_edits_the_bank_account(client, admin_user, tenant, settings):
    settings.TWO_FACTOR_REQUIRED = False
    client.force_login(admin_user)
    url = f"/t/{tenant.pk}/billing/details/"
    assert "Bank account (IBAN)" in client.get(url).content.decode()
    response = client.post(url, {**ADDRESS, "bank_account": "FI21 1234 5600 0007 86"})
    assert "check digits of IBAN" in response.content.decode()
    client.post(url, {**ADDRESS, "bank_account": "FI21 1234 5600 0007 85"})
    with scopes_disabled():
        assert BillingDetails.objects.get(tenant=tenant).bank_account == "FI2112345600000785"


def test_the_seller_migration_notice_gives_a_norwegian_company_the_bank_and_account_number(
    unscoped,
):
    from accounts.mail import mail_render
    from billing.migration import _notice_context
    from billing.models import SellerMigration
    from severa import clock

    old, new = SellerEntityFactory(name="Old Seller AS"), SellerEntityFactory(bank_accounts=())
    SellerBankAccount.objects.create(
        seller=new, currency="NOK", iban=NO_IBAN, bic="DNBANOKK", bank_name="DNB Bank ASA"
    )
    migration = SellerMigration.objects.create(
        from_seller=old,
        to_seller=new,
        cohort_start=datetime.date(2025, 5, 1),
        created_at=clock.now(),
    )
    norwegian = TenantFactory(country="NO", language="nb")
    _subject, body = mail_render(
        template="seller_migration_notice",
        context=_notice_context(
            migration=migration, tenant=norwegian, currency="NOK", to_admins=False
        ),
        language="nb",
    )
    assert "Bank: DNB Bank ASA" in body
    assert "Kontonummer: 8601.11.17947" in body
    assert "IBAN: NO9386011117947" in body

    finnish = TenantFactory(country="FI")
    _subject, body = mail_render(
        template="seller_migration_notice",
        context=_notice_context(
            migration=migration, tenant=finnish, currency="NOK", to_admins=False
        ),
    )
    assert "8601.11.17947" not in body
