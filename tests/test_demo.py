import pytest
from django.apps import apps
from django.core.management import call_command
from django_scopes import scopes_disabled

from accounts.models import Collaboration, Membership, Tenant, User
from billing.models import SellerBankAccount, SellerEntity
from subscriptions.models import Edition, Price

pytestmark = pytest.mark.django_db


def _counts():
    with scopes_disabled():
        return {
            model._meta.label: model.objects.count()
            for model in apps.get_models()
            if model._meta.app_label in {"accounts", "subscriptions", "billing", "partners"}
        }


def test_seed_demo_is_idempotent_and_complete(capsys):
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    output = capsys.readouterr().out
    assert "aino.admin" in output
    assert "severa-demo" in output

    assert [e.code for e in Edition.objects.all()] == ["professional", "business", "enterprise"]
    assert set(Price.objects.values_list("currency", flat=True)) == {"EUR", "SEK", "NOK", "DKK"}
    finland = SellerEntity.objects.get(country="FI")
    assert set(finland.bank_accounts.values_list("currency", flat=True)) == {"EUR", "SEK", "NOK"}
    assert SellerBankAccount.objects.filter(seller__country="NO", currency="NOK").exists()
    assert sorted(Tenant.objects.values_list("country", flat=True)) == ["FI", "NO", "SE"]
    with scopes_disabled():
        assert Collaboration.objects.filter(status="active").count() == 1
        assert Membership.objects.count() == 6
    assert User.objects.get(username="operator").is_superuser


def test_the_demo_logins_work(client):
    call_command("seed_demo")
    response = client.post(
        "/accounts/login/", {"username": "mikko.member", "password": "severa-demo"}
    )
    assert response.status_code == 302
    response = client.post(
        "/accounts/login/", {"username": "aino.admin", "password": "severa-demo"}
    )
    assert response["Location"] == "/accounts/login/code/"
