"""Long lists are paged (20 rows a page, the pager in the page's language), and the figures
in them are formatted like everywhere else."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation
from django_scopes import scopes_disabled

from accounts.locale_format import date_format, money_format
from tests.factories import MembershipFactory, invoice_create

pytestmark = [pytest.mark.django_db]


def test_the_invoice_list_shows_twenty_a_page_newest_first(tenant, admin_user, verified_client):
    with scopes_disabled():
        invoices = [invoice_create(tenant) for _ in range(23)]
    client = verified_client(admin_user)

    first = client.get(f"/t/{tenant.pk}/billing/").content.decode()
    second = client.get(f"/t/{tenant.pk}/billing/?page=2").content.decode()

    # Same date: the newest id first.
    assert f"/billing/invoices/{invoices[-1].pk}/pdf" in first
    assert f"/billing/invoices/{invoices[3].pk}/pdf" in first
    assert f"/billing/invoices/{invoices[2].pk}/pdf" not in first
    assert first.count('/pdf"') == 20
    assert "Page 1 of 2" in first
    assert 'href="?page=2"' in first
    assert second.count('/pdf"') == 3
    assert f"/billing/invoices/{invoices[0].pk}/pdf" in second
    assert "€125.50" in second  # 100.00 + 25.5 % VAT
    assert "9 Jun 2025" in second and "23 Jun 2025" in second


def test_the_users_page_shows_twenty_a_page_with_a_finnish_pager(
    tenant, admin_user, verified_client
):
    with scopes_disabled():
        for number in range(24):
            MembershipFactory(tenant=tenant, user__username=f"user-{number:02d}")
    client = verified_client(admin_user)
    client.cookies["django_language"] = "fi"

    first = client.get(f"/t/{tenant.pk}/users/").content.decode()
    second = client.get(f"/t/{tenant.pk}/users/?page=2").content.decode()

    assert first.count("/licence/") == 20
    assert second.count("/licence/") == 5  # 25 memberships with the admin
    assert "Sivu 1/2" in first
    assert '<a href="?page=2">Seuraava</a>' in first
    assert '<a href="?page=1">Edellinen</a>' in second
    assert "user-00" in first and "user-23" in second


@pytest.mark.parametrize(
    ("language", "amount", "currency", "shown"),
    [
        ("en", "93.6", "EUR", "€93.60"),
        ("en", "93.60", "EUR", "€93.60"),
        ("fi", "2364", "SEK", "2\xa0364,00\xa0SEK"),
        ("sv", "-93.60", "EUR", "-93,60\xa0€"),
        ("en", "-0.00", "EUR", "-€0.00"),
        ("en", "0", "EUR", "€0.00"),
    ],
)
def test_money_is_formatted_for_the_language(language, amount, currency, shown):
    with translation.override(language):
        assert money_format(Decimal(amount), currency) == shown


def test_dates_are_formatted_for_the_language():
    day = datetime.date(2024, 9, 2)
    assert date_format(day, "en") == "2 Sept 2024"
    assert date_format(day, "fi") == "2.9.2024"
    assert date_format(day, "en") == "2 Sept 2024"
