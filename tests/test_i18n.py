import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from accounts.locale_format import date_format, money_format

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "€1,234.50"),
        ("fi", "1\xa0234,50\xa0€"),
        ("sv", "1\xa0234,50\xa0€"),
        ("nb", "1\xa0234,50\xa0€"),
    ],
)
def test_money_per_locale(language, expected):
    assert money_format(Decimal("1234.50"), "EUR", language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "5 Jun 2025"), ("fi", "5.6.2025"), ("sv", "5 juni 2025"), ("nb", "5. juni 2025")],
)
def test_dates_per_locale(language, expected):
    assert date_format(datetime.date(2025, 6, 5), language) == expected


@pytest.mark.parametrize(
    ("language", "users"), [("fi", "Käyttäjät"), ("sv", "Användare"), ("nb", "Brukere")]
)
def test_compiled_catalogs_translate_the_navigation(language, users):
    with translation.override(language):
        assert translation.gettext("Users") == users


def test_the_language_switcher_changes_the_pages(client, member_user):
    client.force_login(member_user)
    response = client.post("/i18n/setlang/", {"language": "fi", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert 'lang="fi"' in page
    assert "Kirjaudu ulos" in page
