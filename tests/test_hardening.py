"""Hardening every response shares: the Content-Security-Policy, no caching of downloaded
documents, a 413 in the API's error shape for a body over the limit, and a 400 (never a 500)
for deeply nested JSON."""

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from accounts.services import api_token_create
from tests.billing.einvoice.builders import invoice_issue, seller_create
from tests.factories import BillingDetailsFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(tenant):
    with scopes_disabled():
        BillingDetailsFactory(tenant=tenant, einvoice_address="", einvoice_operator="")
        return invoice_issue(tenant=tenant, seller=seller_create("FI"))


@pytest.fixture
def admin_api(admin_user):
    _token, key = api_token_create(user=admin_user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def billing_api(tenant):
    with scopes_disabled():
        user = MembershipFactory(tenant=tenant, role="billing").user
    _token, key = api_token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_every_page_has_the_content_security_policy(client, admin_user, verified_client):
    policies = [
        client.get("/accounts/login/")["Content-Security-Policy"],
        verified_client(admin_user).get("/accounts/me/")["Content-Security-Policy"],
        client.get("/api/v1/me")["Content-Security-Policy"],
    ]
    for policy in policies:
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy


def test_no_template_has_inline_script_styles_or_event_handlers():
    import re

    from django.conf import settings

    offenders = []
    for template in (settings.BASE_DIR / "templates").rglob("*.html"):
        text = template.read_text()
        inline = (
            r"<script(?![^>]*\bsrc=)[^>]*>",  # a script without src
            r"\son[a-z]+\s*=",  # an event handler attribute
            r"<style\b",
            r"\sstyle\s*=",
        )
        if any(re.search(pattern, text) for pattern in inline):
            offenders.append(str(template))
    assert offenders == []


@pytest.mark.parametrize("kind", ["pdf", "finvoice", "ubl"])
def test_signed_in_downloads_are_never_cached(
    kind, tenant, invoice, admin_user, verified_client, billing_api
):
    page = verified_client(admin_user).get(f"/t/{tenant.pk}/billing/invoices/{invoice.pk}/{kind}")
    api = billing_api.get(f"/api/v1/tenants/{tenant.pk}/invoices/{invoice.pk}/{kind}")
    assert (page.status_code, api.status_code) == (200, 200)
    assert page["Cache-Control"] == api["Cache-Control"] == "private, no-store"


def test_a_page_is_not_marked_as_a_document(client):
    assert client.get("/accounts/login/").get("Cache-Control") != "private, no-store"


def test_a_body_over_the_limit_is_a_413_in_the_api_error_shape(client, settings, tenant, admin_api):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"username": "' + "a" * 2000 + '", "password": "x"}'
    token = client.post("/api/v1/auth/token", body, content_type="application/json")
    form = client.post("/api/v1/auth/token", {"username": "a" * 2000, "password": "x"})
    invitation = admin_api.post(
        f"/api/v1/tenants/{tenant.pk}/invitations",
        '{"email": "' + "a" * 2000 + '@example.test"}',
        content_type="application/json",
    )
    for response in (token, form, invitation):
        assert response.status_code == 413
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "error": {
                "status": 413,
                "code": "too_large",
                "message": "The request body is too large.",
            }
        }
    page = client.post("/accounts/login/", {"username": "a" * 2000, "password": "x"})
    assert page.status_code == 413


@pytest.mark.parametrize(
    "body", ["[" * 1000, "[" * 1000 + "]" * 1000, '{"a":' * 500 + "1" + "}" * 500]
)
def test_deeply_nested_json_is_a_400_anywhere(body, client, tenant, admin_api):
    for api, path in (
        (client, "/api/v1/auth/token"),
        (admin_api, f"/api/v1/tenants/{tenant.pk}/invitations"),
        (admin_api, f"/api/v1/tenants/{tenant.pk}/customers"),
    ):
        response = api.post(path, body, content_type="application/json")
        assert response.status_code == 400, (path, response.content[:200])
        assert response.json()["error"]["code"] == "parse_error"


def test_ordinary_nesting_still_parses(client, member_user):
    from tests.factories import PASSWORD

    response = client.post(
        "/api/v1/auth/token",
        {"username": member_user.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code in (201, 403)
