"""Billing contacts: the page, the API and the domain functions behind both."""

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled

from accounts.models import AuditEvent, Membership
from accounts.services import api_token_create
from accounts.tenancy import tenant_scope
from billing.contacts import (
    LastBillingContactError,
    billing_contact_add,
    billing_contact_addresses,
    billing_contact_remove,
    billing_contact_removed,
)
from billing.models import BillingContact, BillingDetails
from tests.factories import BillingContactFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

RECOMMENDATION = "We recommend at least 2 billing contacts"
NO_CONTACTS = "No billing contacts yet: nobody gets the company's invoices by e-mail."


@pytest.fixture
def billing_user(tenant):
    with scopes_disabled():
        return MembershipFactory(tenant=tenant, role="billing").user


@pytest.fixture
def api(client, admin_user):
    _token, key = api_token_create(user=admin_user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


CONFIRM = {"confirm": "yes"}


def _contacts(tenant) -> list[str]:
    with tenant_scope(tenant):
        return [contact.address for contact in BillingContact.objects.filter(tenant=tenant)]


def _external(tenant, email="invoices@example.test", name="Accounts payable"):
    with tenant_scope(tenant):
        return billing_contact_add(tenant=tenant, actor=None, email=email, name=name)


def _user_contact(tenant, user):
    with tenant_scope(tenant):
        return billing_contact_add(tenant=tenant, actor=None, user=user)


# The page ---------------------------------------------------------------------------------


def test_with_no_contacts_the_page_warns_and_admins_are_not_contacts(
    verified_client, admin_user, tenant
):
    page = verified_client(admin_user).get(f"/t/{tenant.pk}/billing/contacts/")
    assert page.status_code == 200
    html = page.content.decode()
    assert NO_CONTACTS in html
    assert RECOMMENDATION not in html
    assert billing_contact_addresses(tenant=tenant) == []


def test_the_page_adds_a_user_then_an_external_address_and_stops_recommending(
    verified_client, admin_user, tenant
):
    client = verified_client(admin_user)
    url = f"/t/{tenant.pk}/billing/contacts/"
    response = client.post(url, {"kind": "user", "user_id": admin_user.pk})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert f"{admin_user.email} is now a billing contact." in page
    assert RECOMMENDATION in page
    assert NO_CONTACTS not in page

    response = client.post(
        url, {"kind": "external", "email": "Ostolaskut@Example.test", "name": "Accounts payable"}
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert RECOMMENDATION not in page
    assert "Accounts payable" in page
    assert _contacts(tenant) == [admin_user.email, "ostolaskut@example.test"]
    with tenant_scope(tenant):
        actions = sorted(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["billing_contact.added", "billing_contact.added"]


def test_the_user_select_offers_only_active_users_of_the_tenant_not_yet_contacts(
    verified_client, admin_user, member_user, tenant, other_admin
):
    with scopes_disabled():
        gone = MembershipFactory(tenant=tenant, is_active=False).user
    _user_contact(tenant, member_user)
    response = verified_client(admin_user).get(f"/t/{tenant.pk}/billing/contacts/")
    offered = set(response.context["user_form"].fields["user_id"].queryset)
    assert offered == {admin_user}
    assert gone not in offered and other_admin not in offered


def test_the_page_shows_why_an_address_is_refused(verified_client, admin_user, tenant):
    _external(tenant)
    client = verified_client(admin_user)
    url = f"/t/{tenant.pk}/billing/contacts/"
    response = client.post(
        url, {"kind": "external", "email": "INVOICES@example.test", "name": "Again"}
    )
    assert response.status_code == 200
    assert response.context["external_form"].errors == {
        "email": ["invoices@example.test is already a billing contact."]
    }
    response = client.post(url, {"kind": "external", "email": "not-an-address", "name": ""})
    assert set(response.context["external_form"].errors) == {"email", "name"}
    assert _contacts(tenant) == ["invoices@example.test"]


def test_removing_the_last_contact_is_refused_with_a_message(verified_client, admin_user, tenant):
    contact = _external(tenant)
    client = verified_client(admin_user)
    response = client.post(
        f"/t/{tenant.pk}/billing/contacts/{contact.pk}/remove/", CONFIRM, follow=True
    )
    assert response.status_code == 200
    assert (
        "invoices@example.test is the only billing contact and cannot be removed: invoices need "
        "at least one. Add another contact first."
    ) in response.content.decode()
    assert _contacts(tenant) == ["invoices@example.test"]


def test_the_page_removes_a_contact_when_another_remains(verified_client, admin_user, tenant):
    first = _external(tenant)
    _external(tenant, email="second@example.test", name="Second")
    client = verified_client(admin_user)
    url = f"/t/{tenant.pk}/billing/contacts/{first.pk}/remove/"
    # The button leads to a confirmation: neither it (a bare POST) nor the page's address
    # removes anything.
    for response in (client.post(url), client.get(url)):
        assert response.status_code == 200
        page = response.content.decode()
        assert "Remove invoices@example.test as a billing contact?" in page
        assert (
            "The invoice links already sent to invoices@example.test stop working at once."
        ) in page
        assert 'name="confirm" value="yes"' in page
    assert _contacts(tenant) == ["invoices@example.test", "second@example.test"]
    response = client.post(url, CONFIRM, follow=True)
    assert "invoices@example.test is no longer a billing contact." in response.content.decode()
    assert RECOMMENDATION in response.content.decode()
    assert _contacts(tenant) == ["second@example.test"]


def test_the_billing_role_manages_contacts_and_a_member_is_refused(
    verified_client, billing_user, member_user, tenant
):
    url = f"/t/{tenant.pk}/billing/contacts/"
    client = verified_client(billing_user)
    assert client.post(url, {"kind": "user", "user_id": billing_user.pk}).status_code == 302
    contact = _external(tenant)
    client = verified_client(member_user)
    assert client.get(url).status_code == 403
    assert (
        client.post(url, {"kind": "external", "email": "x@example.test", "name": "X"}).status_code
        == 403
    )
    assert client.post(f"{url}{contact.pk}/remove/", CONFIRM).status_code == 403
    assert len(_contacts(tenant)) == 2


def test_another_tenants_admin_sees_nothing_and_removes_nothing(
    verified_client, admin_user, other_admin, tenant, other_tenant
):
    own = _external(tenant)
    _external(tenant, email="second@example.test")
    theirs = _external(other_tenant, email="theirs@example.test")
    _external(other_tenant, email="theirs2@example.test")
    client = verified_client(other_admin)
    assert client.get(f"/t/{tenant.pk}/billing/contacts/").status_code == 404
    assert (
        client.post(f"/t/{tenant.pk}/billing/contacts/{own.pk}/remove/", CONFIRM).status_code == 404
    )
    # Their own tenant's URL with our contact's id: still 404, never removed.
    assert (
        client.post(f"/t/{other_tenant.pk}/billing/contacts/{own.pk}/remove/", CONFIRM).status_code
        == 404
    )
    page = client.get(f"/t/{other_tenant.pk}/billing/contacts/").content.decode()
    assert "theirs@example.test" in page
    assert "invoices@example.test" not in page
    assert _contacts(tenant) == ["invoices@example.test", "second@example.test"]
    # And our admin cannot reach theirs.
    client = verified_client(admin_user)
    assert (
        client.post(f"/t/{tenant.pk}/billing/contacts/{theirs.pk}/remove/", CONFIRM).status_code
        == 404
    )
    assert len(_contacts(other_tenant)) == 2


# The API ----------------------------------------------------------------------------------


def test_api_lists_only_the_tenants_contacts(api, admin_user, tenant, other_tenant):
    contact = _user_contact(tenant, admin_user)
    _external(other_tenant, email="theirs@example.test")
    response = api.get(f"/api/v1/tenants/{tenant.pk}/billing-contacts")
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": contact.pk,
            "kind": "user",
            "user_id": admin_user.pk,
            "name": admin_user.get_full_name(),
            "email": admin_user.email,
            "created_at": response.json()["results"][0]["created_at"],
        }
    ]
    assert api.get(f"/api/v1/tenants/{other_tenant.pk}/billing-contacts").status_code == 404


def test_api_adds_users_and_external_addresses(api, member_user, tenant):
    url = f"/api/v1/tenants/{tenant.pk}/billing-contacts"
    response = api.post(url, {"user_id": member_user.pk}, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["kind"] == "user"
    assert response.json()["email"] == member_user.email
    response = api.post(
        url,
        {"email": "AP@example.test", "name": "Accounts payable"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["kind"] == "external"
    assert response.json()["email"] == "ap@example.test"
    assert response.json()["user_id"] is None
    assert _contacts(tenant) == [member_user.email, "ap@example.test"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"email": ["Give a user or an e-mail address."]}),
        (
            {"email": "ap@example.test"},
            {"name": ["Give the name of the person or team at this address."]},
        ),
        ({"email": "nope", "name": "X"}, {"email": ["Enter a valid email address."]}),
        (
            {"user_id": "OTHER", "email": "", "name": ""},
            {"user_id": ["Only active users of the company can be billing contacts."]},
        ),
        (
            {"user_id": 999999999},
            {"user_id": ["Only active users of the company can be billing contacts."]},
        ),
        (
            {"user_id": "ADMIN", "email": "ap@example.test", "name": "AP"},
            {"non_field_errors": ["Give either a user or an e-mail address and a name, not both."]},
        ),
    ],
)
def test_api_refusals_add_nothing(api, tenant, admin_user, other_admin, body, fields):
    body = {
        **body,
        **(
            {"user_id": {"OTHER": other_admin.pk, "ADMIN": admin_user.pk}[body["user_id"]]}
            if isinstance(body.get("user_id"), str)
            else {}
        ),
    }
    response = api.post(
        f"/api/v1/tenants/{tenant.pk}/billing-contacts", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields
    assert _contacts(tenant) == []


def test_api_refuses_a_contact_twice(api, admin_user, tenant):
    url = f"/api/v1/tenants/{tenant.pk}/billing-contacts"
    _user_contact(tenant, admin_user)
    response = api.post(url, {"user_id": admin_user.pk}, content_type="application/json")
    assert response.json()["error"]["fields"] == {
        "user_id": ["This user is already a billing contact."]
    }
    # The user's address as an external contact would be the same recipient twice.
    response = api.post(
        url, {"email": admin_user.email.upper(), "name": "Me"}, content_type="application/json"
    )
    assert response.json()["error"]["fields"] == {
        "email": [f"{admin_user.email} is already a billing contact."]
    }
    assert _contacts(tenant) == [admin_user.email]


def test_api_delete_answers_409_for_the_last_contact(api, tenant):
    first = _external(tenant)
    second = _external(tenant, email="second@example.test")
    url = f"/api/v1/tenants/{tenant.pk}/billing-contacts"
    assert api.delete(f"{url}/{first.pk}").status_code == 204
    response = api.delete(f"{url}/{second.pk}")
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "status": 409,
            "code": "last_billing_contact",
            "message": "second@example.test is the only billing contact and cannot be removed: "
            "invoices need at least one. Add another contact first.",
            "reason": "last_billing_contact",
            "params": {"contact": "second@example.test"},
        }
    }
    assert _contacts(tenant) == ["second@example.test"]
    assert api.get(f"{url}/{second.pk}").json()["email"] == "second@example.test"


def test_api_hides_other_tenants_contacts_by_id(api, tenant, other_tenant):
    _external(tenant)
    theirs = _external(other_tenant, email="theirs@example.test")
    _external(other_tenant, email="theirs2@example.test")
    url = f"/api/v1/tenants/{tenant.pk}/billing-contacts/{theirs.pk}"
    assert api.get(url).status_code == 404
    assert api.delete(url).status_code == 404
    assert len(_contacts(other_tenant)) == 2


def test_api_refuses_a_member(client, member_user, tenant):
    _token, key = api_token_create(user=member_user)
    response = client.get(
        f"/api/v1/tenants/{tenant.pk}/billing-contacts", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 403


# The domain -------------------------------------------------------------------------------


def test_addresses_are_unique_current_and_skip_deactivated_users(
    tenant, admin_user, member_user, other_tenant
):
    gone = UserFactory()
    left = UserFactory()
    with scopes_disabled():
        MembershipFactory(tenant=tenant, user=gone)
        left_membership = MembershipFactory(tenant=tenant, user=left)
    _user_contact(tenant, admin_user)
    _user_contact(tenant, gone)
    _user_contact(tenant, left)
    _user_contact(tenant, member_user)
    _external(tenant, email="ap@example.test")
    # A duplicate the domain would refuse, made directly: still one address.
    with scopes_disabled():
        BillingContactFactory(tenant=tenant, email=admin_user.email.upper())
        BillingContactFactory(tenant=other_tenant, email="theirs@example.test")
    gone.is_active = False
    gone.save()
    with scopes_disabled():
        Membership.objects.filter(pk=left_membership.pk).update(is_active=False)
    member_user.email = "mikko.new@example.test"
    member_user.save()

    assert billing_contact_addresses(tenant=tenant) == [
        admin_user.email,
        "mikko.new@example.test",
        "ap@example.test",
    ]
    # Also inside another tenant's scope (a task acting for it): the argument decides.
    with tenant_scope(other_tenant):
        assert billing_contact_addresses(tenant=tenant) == [
            admin_user.email,
            "mikko.new@example.test",
            "ap@example.test",
        ]


def test_removal_sends_the_signal_before_deleting_inside_the_transaction(tenant, admin_user):
    first = _external(tenant)
    _external(tenant, email="second@example.test")
    seen = []

    def receiver(sender, contact, tenant, **kwargs):
        seen.append((contact.pk, tenant.pk, BillingContact.objects.filter(pk=contact.pk).exists()))

    billing_contact_removed.connect(receiver)
    try:
        with tenant_scope(tenant):
            billing_contact_remove(contact=first, actor=admin_user)
    finally:
        billing_contact_removed.disconnect(receiver)
    assert seen == [(first.pk, tenant.pk, True)]
    assert _contacts(tenant) == ["second@example.test"]
    with tenant_scope(tenant):
        event = AuditEvent.objects.get(action="billing_contact.removed")
    assert event.details == {"contact": "invoices@example.test", "user": None}
    assert event.actor == admin_user


def test_a_failing_receiver_keeps_the_contact(tenant, admin_user):
    first = _external(tenant)
    _external(tenant, email="second@example.test")

    def receiver(sender, **kwargs):
        raise RuntimeError("links could not be revoked")

    billing_contact_removed.connect(receiver)
    try:
        with tenant_scope(tenant), pytest.raises(RuntimeError):
            billing_contact_remove(contact=first, actor=admin_user)
    finally:
        billing_contact_removed.disconnect(receiver)
    assert len(_contacts(tenant)) == 2


def test_the_last_contact_stays(tenant, admin_user):
    only = _user_contact(tenant, admin_user)
    with tenant_scope(tenant), pytest.raises(LastBillingContactError):
        billing_contact_remove(contact=only, actor=admin_user)
    assert _contacts(tenant) == [admin_user.email]


def test_a_user_of_another_tenant_cannot_be_added(tenant, other_admin):
    with tenant_scope(tenant), pytest.raises(ValidationError) as caught:
        billing_contact_add(tenant=tenant, actor=None, user=other_admin)
    assert caught.value.message_dict == {
        "user_id": ["Only active users of the company can be billing contacts."]
    }
    assert _contacts(tenant) == []


def test_the_isolation_walker_covers_the_billing_routes():
    from tests.isolation import TENANT_OBJECT_FACTORIES, discover_routes

    templates = {route.template for route in discover_routes()}
    assert {
        "/t/<int:tenant_id>/billing/details/",
        "/t/<int:tenant_id>/billing/contacts/",
        "/t/<int:tenant_id>/billing/contacts/<int:billingcontact_id>/remove/",
        "/api/v1/tenants/<int:tenant_id>/billing-details",
        "/api/v1/tenants/<int:tenant_id>/billing-contacts",
        "/api/v1/tenants/<int:tenant_id>/billing-contacts/<int:billingcontact_id>",
    } <= templates
    assert {BillingContact, BillingDetails} <= set(TENANT_OBJECT_FACTORIES)
