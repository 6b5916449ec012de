"""Form errors a user understands: every form page given bad input shows its errors at the top
in one role="alert" block and at each field (tied to it by aria-describedby), in words of
the project's own, never Django's defaults."""

import datetime
import re

import pytest
from django_scopes import scopes_disabled

from partners.models import Engagement
from severa import clock
from tests.factories import (
    MembershipFactory,
    PartnerFactory,
    PartnerMembershipFactory,
    SubscriptionFactory,
    catalog_create,
    connection_create_for,
)

pytestmark = pytest.mark.django_db
SEED_DAY = datetime.date(2025, 6, 5)
DJANGO_DEFAULTS = (
    "---------",
    "Ensure this value",
    "Select a valid choice",
    "This field is required",
)
LONG = "x" * 300


def _check(response, *expected: str) -> str:
    """The page refused the input with the project's own words."""
    assert response.status_code in (200, 400)
    page = response.content.decode()
    for phrase in DJANGO_DEFAULTS:
        assert phrase not in page, phrase
    summary = re.search(
        r'<div class="messages form-errors" role="alert"[^>]*>(.*?)</div></div>', page, re.S
    )
    assert summary, "no error summary with role=alert"
    for phrase in expected:
        assert phrase in summary.group(1), phrase
        assert page.count(phrase) >= 2, f"{phrase} is not at its field"
    return page


def _described(page: str, field_id: str) -> None:
    """The field with an error is marked invalid and points at its error list."""
    assert f'id="{field_id}_error"' in page
    tag = re.search(rf'<(?:input|select|textarea)[^>]*id="{field_id}"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in tag
    assert f"{field_id}_error" in tag


@pytest.fixture
def signed_in(verified_client, admin_user):
    return verified_client(admin_user)


def test_login(client):
    response = client.post("/accounts/login/", {"username": LONG, "password": ""})
    page = _check(response, "Use at most 150 characters (this has 300).", "Fill in this field.")
    _described(page, "id_username")
    _described(page, "id_password")


def test_billing_details(signed_in, tenant):
    response = signed_in.post(
        f"/t/{tenant.pk}/billing/details/", {"street_address": LONG, "city": "Helsinki"}
    )
    page = _check(response, "Use at most")
    _described(page, "id_street_address")
    # The rules of billing.details speak the same words.
    response = signed_in.post(
        f"/t/{tenant.pk}/billing/details/", {"street_address": "Street 1", "city": ""}
    )
    page = _check(response, "Fill in this field.")
    _described(page, "id_city")


def test_billing_contacts(signed_in, tenant):
    url = f"/t/{tenant.pk}/billing/contacts/"
    response = signed_in.post(url, {"kind": "user", "user_id": "999999"})
    _check(response, "Choose one of the options in the list.")
    response = signed_in.post(url, {"kind": "external", "email": "not-an-address", "name": ""})
    page = _check(
        response, "Give an e-mail address such as name@example.com.", "Fill in this field."
    )
    _described(page, "id_email")


def test_invitation(signed_in, tenant):
    response = signed_in.post(f"/t/{tenant.pk}/users/", {"email": "nope", "role": "king"})
    _check(response, "Give an e-mail address such as name@example.com.")


def test_adjust(signed_in, tenant):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, seats=5)
    with clock.frozen(SEED_DAY):
        response = signed_in.post(
            f"/t/{tenant.pk}/upgrades/adjust/", {"seats": "0", "storage_gb": "7", "next": "1"}
        )
    _check(response, "Give 1 or more.", "Choose one of the options in the list.")


def test_partner_activation(verified_client):
    with scopes_disabled():
        catalog_create()
        partner = PartnerFactory(name="Tilitoimisto Luku Oy")
        partner_user = PartnerMembershipFactory(partner=partner).user
        engagement = Engagement.objects.create(
            partner=partner, name="Bookkeeping 2025", created_at=clock.now()
        )
    client = verified_client(partner_user)
    response = client.post(
        f"/p/{partner.pk}/activations/new/",
        {
            "engagement": engagement.pk,
            "name": "Uusi Asiakas Oy",
            "seats": "many",
            "admin_email": "ville",
            "invoice_recipient": "nobody",
            "agreement_months": "12",
        },
    )
    _check(
        response,
        "Give a whole number, e.g. 12.",
        "Give an e-mail address such as name@example.com.",
        "Choose one of the options in the list.",
    )


def test_records_customer_and_product(signed_in, tenant):
    for path in ("customers", "products"):
        page = signed_in.get(f"/t/{tenant.pk}/records/{path}/new/").content.decode()
        assert "---------" not in page
        assert "Choose…" in page
    response = signed_in.post(
        f"/t/{tenant.pk}/records/products/new/",
        {"code": "1", "name": LONG, "kind": "gadget", "price": "abc", "unit": "999999"},
    )
    _check(response, "Use at most", "Give a number, e.g. 12.50.")


def test_a_records_row_error_is_listed_at_the_top_too(signed_in, tenant):
    response = signed_in.post(
        f"/t/{tenant.pk}/records/customers/new/",
        {
            "number": "1",
            "name": "Kone Oyj",
            "addresses-TOTAL_FORMS": "1",
            "addresses-INITIAL_FORMS": "0",
            "addresses-MIN_NUM_FORMS": "0",
            "addresses-MAX_NUM_FORMS": "1000",
            "addresses-0-kind": "nowhere",
            "addresses-0-street": "Karakaari 7",
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
            "contacts-MIN_NUM_FORMS": "0",
            "contacts-MAX_NUM_FORMS": "1000",
        },
    )
    page = _check(response, "Choose one of the options in the list.")
    _described(page, "id_addresses-0-kind")


def test_integration_settings(signed_in, tenant, monkeypatch):
    from integrations import records

    monkeypatch.setattr(records, "invoice_statuses", lambda tenant: [(11, "Ready to send")])
    monkeypatch.setattr(records, "products", lambda tenant: [(21, "100 Consulting")])
    with scopes_disabled():
        connection = connection_create_for(tenant, send_status_id=11)
    response = signed_in.post(
        f"/t/{tenant.pk}/integrations/{connection.pk}/",
        {"send_status_id": "99", "customers_master": "", "products_master": "elsewhere"},
    )
    page = _check(response, "Choose one of the options in the list.", "Choose one of the options.")
    _described(page, "id_send_status_id")


def test_a_billing_user_and_an_operator_see_the_same(tenant, operator, verified_client):
    with scopes_disabled():
        billing = MembershipFactory(tenant=tenant, role="billing").user
    response = verified_client(billing).post(
        f"/t/{tenant.pk}/billing/details/", {"postal_code": LONG, "city": "Espoo"}
    )
    _check(response, "Use at most")
    response = verified_client(operator).post(
        "/operator/seller-migrations/", {"from_seller": "999999", "notice_days": "999"}
    )
    page = _check(response, "Give 365 or less.", "Choose one of the options in the list.")
    _described(page, "id_notice_days")


def test_a_message_a_form_gives_its_field_stays():
    from django import forms

    from severa.forms import ClearForm

    class Own(ClearForm):
        name = forms.CharField(max_length=3, error_messages={"required": "Name it."})

    assert Own({}).errors["name"] == ["Name it."]
    assert Own({"name": "long"}).errors["name"] == ["Use at most 3 characters (this has 4)."]


def test_the_messages_are_in_the_users_language(client):
    response = client.post(
        "/accounts/login/", {"username": "", "password": ""}, HTTP_ACCEPT_LANGUAGE="sv"
    )
    page = response.content.decode()
    assert "Fyll i det här fältet." in page
    assert "Rätta de 2 felen nedan." in page


def test_each_number_field_says_what_it_takes():
    from billing.operator_forms import PaymentForm, SellerMigrationForm

    amount = PaymentForm({"amount": "abc", "paid_on": "2025-06-31"}).errors
    assert amount == {
        "amount": ["Give a number, e.g. 12.50."],
        "paid_on": ["Give a date, e.g. 2026-12-31."],
    }
    assert PaymentForm({"amount": "1.234"}).errors["amount"] == ["Use at most 2 decimals."]
    notice = SellerMigrationForm({"notice_days": "1.5"}).errors["notice_days"]
    assert notice == ["Give a whole number, e.g. 12."]
