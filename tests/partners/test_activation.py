"""The seed's three ways to activate a collaboration (DESIGN §3.8), end to end: the e-mails,
their links, the customer's approval with the terms, and what is (not) charged."""

import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django_scopes import scope, scopes_disabled

from accounts.models import (
    AuditEvent,
    Collaboration,
    CollaborationStatus,
    Invitation,
    Membership,
    OutboxMessage,
    Tenant,
)
from billing.models import TermsAcceptance
from partners.models import ActivationStatus, PartnerActivation
from partners.services import NewCustomer, activation_approve, activation_create
from partners.services.activation_status import activation_status_move
from severa import clock
from subscriptions.models import OrderConfirmation, Subscription
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db
APPROVAL_DAY = datetime.date(2025, 6, 5)


def _links(message) -> list[str]:
    return re.findall(r"https?://\S+", message.body)


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_the_activation_email_is_written_to_the_outbox_with_the_activation(
    tenant, admin_user, partner, partner_user, engagement
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, seats=5)
    activation, token = activation_create(
        partner=partner,
        engagement=engagement,
        actor=partner_user,
        tenant=tenant,
        edition="enterprise",
        seats=50,
        invoice_recipient="partner",
        agreement_months=12,
    )
    with scopes_disabled():
        [message] = OutboxMessage.objects.all()
    # The customer's admins are told, in the customer's name; sent by the relay after the
    # activation's transaction commits (not yet here).
    assert (message.tenant_id, message.partner_id, message.kind, message.to, message.status) == (
        tenant.pk,
        None,
        "partner_activation",
        admin_user.email,
        "pending",
    )
    assert f"/partners/activations/{token}/" in message.body
    assert mail.outbox == []


def test_existing_subscription_keeps_its_agreement_and_nothing_is_charged(
    tenant,
    admin_user,
    partner,
    partner_user,
    engagement,
    seller,
    catalog,
    verified_client,
    django_capture_on_commit_callbacks,
):
    with scopes_disabled():
        subscription = SubscriptionFactory(tenant=tenant, seats=5)
        orders_before = OrderConfirmation.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        activation, token = activation_create(
            partner=partner,
            engagement=engagement,
            actor=partner_user,
            tenant=tenant,
            # Checked like any selection and kept as typed, but not sold: the customer
            # keeps its edition.
            edition="enterprise",
            seats=50,
            invoice_recipient="partner",
            agreement_months=12,
        )
    assert activation.scenario == "existing_subscription"
    assert (activation.edition, activation.seats, activation.invoice_recipient) == (
        "enterprise",
        50,
        "partner",
    )
    assert not activation.sells_subscription
    # Not active before approval: the partner reaches nothing of the tenant.
    partner_client = verified_client(partner_user)
    assert partner_client.get(f"/t/{tenant.pk}/upgrades/").status_code == 404
    [message] = mail.outbox
    assert message.to == [admin_user.email]
    assert "Tilitoimisto Luku Oy" in message.subject
    [approve_url] = _links(message)
    assert _path(approve_url) == f"/partners/activations/{token}/"

    admin_client = verified_client(admin_user)
    page = admin_client.get(_path(approve_url))
    assert page.status_code == 200
    assert "nothing is charged until the agreement is renewed" in page.content.decode()
    # Without accepting the terms: refused, nothing changes.
    refused = admin_client.post(_path(approve_url), {})
    assert refused.status_code == 200
    with scopes_disabled():
        assert Collaboration.objects.get().status == CollaborationStatus.PENDING
        assert TermsAcceptance.objects.count() == 0
    response = admin_client.post(_path(approve_url), {"accept_terms": "on"})
    assert response.status_code == 302
    with scopes_disabled():
        assert Collaboration.objects.get().status == CollaborationStatus.ACTIVE
        subscription.refresh_from_db()
        assert (subscription.edition.code, subscription.seats) == ("professional", 5)
        assert subscription.invoice_partner is None
        assert subscription.agreement_end is None
        assert OrderConfirmation.objects.count() == orders_before
        acceptance = TermsAcceptance.objects.get()
        assert (acceptance.tenant, acceptance.seller, acceptance.version) == (
            tenant,
            subscription.seller,
            subscription.seller.terms_version,
        )
    assert partner_client.get(f"/t/{tenant.pk}/upgrades/").status_code == 200
    # The link is used once.
    assert admin_client.get(_path(approve_url)).status_code == 404


def test_existing_customer_without_subscription_gets_one_when_approved(
    tenant,
    admin_user,
    partner,
    partner_user,
    engagement,
    seller,
    catalog,
    django_capture_on_commit_callbacks,
):
    with clock.frozen(APPROVAL_DAY), django_capture_on_commit_callbacks(execute=True):
        activation, token = activation_create(
            partner=partner,
            engagement=engagement.pk,
            actor=partner_user,
            tenant=tenant,
            edition="business",
            seats=3,
            invoice_recipient="partner",
            agreement_months=12,
        )
    assert activation.scenario == "existing_customer"
    with scopes_disabled():
        assert not Subscription.objects.exists()
        assert OrderConfirmation.objects.count() == 0
    [message] = mail.outbox
    assert message.to == [admin_user.email]
    assert "Business, 3 seats, agreement period 12 months" in message.body

    with clock.frozen(APPROVAL_DAY):
        activation_approve(activation=activation, actor=admin_user, terms_accepted=True)
    with scopes_disabled():
        subscription = Subscription.objects.get(tenant=tenant)
        # §3.2: periods start on the 1st; the first one is the one containing the approval.
        assert (subscription.period_start, subscription.period_end) == (
            datetime.date(2025, 6, 1),
            datetime.date(2026, 5, 31),
        )
        assert subscription.period_months == 12
        assert subscription.agreement_end == datetime.date(2026, 5, 31)
        assert (subscription.edition.code, subscription.seats) == ("business", 3)
        assert subscription.invoice_partner == partner
        order = OrderConfirmation.objects.get()
        assert order.invoice_partner == partner
        assert PartnerActivation.objects.get().status == ActivationStatus.APPROVED
        assert Collaboration.objects.get().status == CollaborationStatus.ACTIVE


def test_brand_new_customer_admin_sets_a_password_then_approves(
    client,
    partner,
    partner_user,
    engagement,
    seller,
    catalog,
    django_capture_on_commit_callbacks,
    no_two_factor,
):
    customer = NewCustomer(
        name="Uusi Asiakas Oy",
        country="FI",
        business_id="1572860-0",
        vat_number="FI15728600",
        admin_name="Ville Virtanen",
        admin_email="Ville@Uusi.test",
    )
    with clock.frozen(APPROVAL_DAY), django_capture_on_commit_callbacks(execute=True):
        activation, token = activation_create(
            partner=partner,
            engagement=engagement,
            actor=partner_user,
            customer=customer,
            edition="professional",
            seats=2,
            invoice_recipient="customer",
            agreement_months=3,
        )
    with scopes_disabled():
        tenant = Tenant.objects.get(name="Uusi Asiakas Oy")
        assert (tenant.business_id, tenant.vat_number, tenant.language) == (
            "1572860-0",
            "FI15728600",
            "fi",
        )
        assert Invitation.objects.get(tenant=tenant).email == "ville@uusi.test"
        assert not Subscription.objects.exists()
        # Created as every company is (accounts.services.tenant_create), and audited so.
        created = AuditEvent.objects.get(tenant=tenant, action="tenant.created_for_partner")
        assert (created.actor, created.subject_label) == (partner_user, "Uusi Asiakas Oy")
    # One e-mail: set the password, then approve.
    [message] = mail.outbox
    assert message.to == ["ville@uusi.test"]
    # The approval e-mail warns of fake ones, in the new administrator's language.
    assert "Meiltä tuleva linkki ei koskaan kysy salasanaanne" in message.body
    password_url, approve_url = _links(message)
    assert _path(approve_url) == f"/partners/activations/{token}/"
    assert "?next=/partners/activations/" in password_url

    # The approval link asks to sign in first.
    with clock.frozen(datetime.date(2025, 6, 6)):
        assert client.get(_path(approve_url)).status_code == 302
        response = client.post(
            _path(password_url),
            {
                "username": "ville",
                "first_name": "Ville",
                "last_name": "Virtanen",
                "password": "a long and unguessable passphrase 9",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == _path(approve_url)
    with clock.frozen(datetime.date(2025, 6, 18)):
        assert client.post(_path(approve_url), {"accept_terms": "on"}).status_code == 302
    with scopes_disabled():
        membership = Membership.objects.get(tenant=tenant)
        assert (membership.user.email, membership.role) == ("ville@uusi.test", "admin")
        subscription = Subscription.objects.get(tenant=tenant)
        assert (subscription.period_start, subscription.period_end) == (
            datetime.date(2025, 6, 1),
            datetime.date(2025, 8, 31),
        )
        assert subscription.agreement_end == datetime.date(2025, 8, 31)
        assert subscription.invoice_partner is None
        assert TermsAcceptance.objects.get().user == membership.user


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("business_id", {"business_id": "1572860-1"}),
        ("vat_number", {"vat_number": "FI15728601"}),
        ("admin_email", {"admin_email": ""}),
        ("admin_name", {"admin_name": " "}),
    ],
)
def test_bad_new_customer_details_are_refused_and_nothing_is_saved(
    partner, partner_user, engagement, seller, catalog, field, changes
):
    details = {
        "name": "Uusi Asiakas Oy",
        "country": "FI",
        "business_id": "1572860-0",
        "vat_number": "FI15728600",
        "admin_name": "Ville Virtanen",
        "admin_email": "ville@uusi.test",
    } | changes
    with pytest.raises(ValidationError) as refused:
        activation_create(
            partner=partner,
            engagement=engagement,
            actor=partner_user,
            customer=NewCustomer(**details),
            edition="professional",
            seats=2,
            agreement_months=3,
        )
    assert field in refused.value.message_dict
    with scopes_disabled():
        assert not Tenant.objects.filter(name="Uusi Asiakas Oy").exists()
        assert not PartnerActivation.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("agreement_months", {"agreement_months": 6}),
        ("edition", {"edition": "platinum"}),
        ("seats", {"seats": 0}),
        ("seats", {"seats": None}),
        ("seats", {"seats": 100_001}),
        ("invoice_recipient", {"invoice_recipient": "someone"}),
    ],
)
def test_bad_selection_for_an_existing_customer_is_refused(
    tenant, partner, partner_user, engagement, seller, catalog, field, changes
):
    selection = {
        "edition": "business",
        "seats": 3,
        "invoice_recipient": "customer",
        "agreement_months": 12,
    } | changes
    with pytest.raises(ValidationError) as refused:
        activation_create(
            partner=partner, engagement=engagement, actor=partner_user, tenant=tenant, **selection
        )
    assert field in refused.value.message_dict
    with scopes_disabled():
        assert not Collaboration.objects.exists()
        assert not PartnerActivation.objects.exists()


def test_an_engagement_of_another_partner_or_customer_is_refused(
    tenant, other_tenant, partner, partner_user, other_partner, engagement
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant)
        SubscriptionFactory(tenant=other_tenant)
        foreign = other_partner.engagements.create(name="Theirs", created_at=clock.now())
    with pytest.raises(ValidationError):
        activation_create(partner=partner, engagement=foreign, actor=partner_user, tenant=tenant)
    activation_create(partner=partner, engagement=engagement, actor=partner_user, tenant=tenant)
    engagement.refresh_from_db()
    assert engagement.customer == tenant
    # Now tied to `tenant`: it cannot serve another customer.
    with pytest.raises(ValidationError) as refused:
        activation_create(
            partner=partner, engagement=engagement, actor=partner_user, tenant=other_tenant
        )
    assert "engagement" in refused.value.message_dict


def test_the_same_idempotency_key_makes_one_activation(tenant, partner, partner_user, engagement):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant)
    first, token = activation_create(
        partner=partner,
        engagement=engagement,
        actor=partner_user,
        tenant=tenant,
        idempotency_key="k-1",
    )
    again, no_token = activation_create(
        partner=partner,
        engagement=engagement,
        actor=partner_user,
        tenant=tenant,
        idempotency_key="k-1",
    )
    assert (again.pk, no_token) == (first.pk, None)
    assert token


def test_only_an_admin_of_the_customer_approves(
    tenant, admin_user, member_user, other_admin, partner, partner_user, engagement
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant)
    activation, _token = activation_create(
        partner=partner, engagement=engagement, actor=partner_user, tenant=tenant
    )
    for user in (member_user, other_admin, partner_user):
        with pytest.raises(ValidationError):
            activation_approve(activation=activation, actor=user, terms_accepted=True)
    with scopes_disabled():
        assert Collaboration.objects.get().status == CollaborationStatus.PENDING
        assert not TermsAcceptance.objects.exists()


def test_ending_a_waiting_collaboration_withdraws_the_activation_and_its_link(
    tenant, admin_user, partner, partner_user, engagement, verified_client
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant)
    activation, token = activation_create(
        partner=partner, engagement=engagement, actor=partner_user, tenant=tenant
    )
    verified_client(partner_user).post(
        f"/p/{partner.pk}/customers/{tenant.pk}/end/", {"confirm": "yes"}
    )
    with scopes_disabled():
        activation.refresh_from_db()
        assert activation.status == ActivationStatus.CANCELLED
        assert Collaboration.objects.get().status == CollaborationStatus.ENDED
    assert verified_client(admin_user).get(f"/partners/activations/{token}/").status_code == 404
    with pytest.raises(ValidationError):
        activation_approve(activation=activation, actor=admin_user, terms_accepted=True)


def test_the_partners_page_lists_a_waiting_activation_for_the_admin_to_approve(
    tenant, admin_user, member_user, partner, partner_user, engagement, verified_client
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant)
    activation, _token = activation_create(
        partner=partner, engagement=engagement, actor=partner_user, tenant=tenant
    )
    admin = verified_client(admin_user)
    page = admin.get(f"/t/{tenant.pk}/partners/").content.decode()
    approve = f"/t/{tenant.pk}/partners/activations/{activation.pk}/"
    assert approve in page
    response = admin.post(approve, {"accept_terms": "on"})
    assert response.status_code == 302
    with scopes_disabled():
        assert Collaboration.objects.get().status == CollaborationStatus.ACTIVE
    # Done: the page is gone; members never had it.
    assert admin.get(approve).status_code == 404
    assert verified_client(member_user).get(approve).status_code in (403, 404)


def test_the_portal_form_shows_a_bad_vat_number_and_saves_nothing(
    partner, partner_user, engagement, seller, catalog, verified_client
):
    response = verified_client(partner_user).post(
        f"/p/{partner.pk}/activations/new/",
        {
            "engagement": engagement.pk,
            "name": "Uusi Asiakas Oy",
            "country": "FI",
            "business_id": "1572860-0",
            "vat_number": "FI15728601",
            "admin_name": "Ville Virtanen",
            "admin_email": "ville@uusi.test",
            "edition": "business",
            "seats": "3",
            "invoice_recipient": "customer",
            "agreement_months": "12",
        },
    )
    assert response.status_code == 200
    assert "FI15728601" in response.content.decode()
    assert response.context["form"].errors["vat_number"]
    with scopes_disabled():
        assert not Tenant.objects.filter(name="Uusi Asiakas Oy").exists()
        assert not PartnerActivation.objects.exists()
    assert mail.outbox == []


def test_the_portal_form_activates_an_existing_customer_by_its_business_id_and_name(
    tenant, admin_user, partner, partner_user, engagement, seller, catalog, verified_client
):
    response = verified_client(partner_user).post(
        f"/p/{partner.pk}/activations/new/",
        {
            "engagement": engagement.pk,
            "company_country": "FI",
            "company_business_id": "1572860-0",
            "company_name": "Aalto Consulting Oy",
            "edition": "professional",
            "seats": "2",
            "invoice_recipient": "partner",
            "agreement_months": "3",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        activation = PartnerActivation.objects.get()
    assert (activation.tenant, activation.scenario, activation.invoice_recipient) == (
        tenant,
        "existing_customer",
        "partner",
    )


def _activation_moves():
    with scopes_disabled():
        return list(
            AuditEvent.objects.filter(subject_type="partners.partneractivation")
            .exclude(action="partner.activation_created")
            .order_by("pk")
            .values_list("action", "actor_kind", "details__from")
        )


def test_an_activation_moves_once_from_waiting_and_each_move_is_audited_once(
    tenant, admin_user, partner, partner_user, engagement
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant)
    activation, _token = activation_create(
        partner=partner, engagement=engagement, actor=partner_user, tenant=tenant
    )
    with scope(tenant=tenant.pk):
        activation_status_move(
            activation=activation, to=ActivationStatus.DECLINED, actor=admin_user
        )
        assert activation.status == ActivationStatus.DECLINED
        # A declined activation is neither approved nor cancelled afterwards.
        for to in (ActivationStatus.APPROVED, ActivationStatus.CANCELLED):
            with pytest.raises(ValidationError):
                activation_status_move(activation=activation, to=to, actor=admin_user)
        assert PartnerActivation.objects.get().status == ActivationStatus.DECLINED
    assert _activation_moves() == [("partner.activation_declined", "user", "pending")]


def test_an_expired_activation_is_not_approved_and_nothing_is_audited(
    tenant, admin_user, partner, partner_user, engagement
):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant)
    activation, _token = activation_create(
        partner=partner, engagement=engagement, actor=partner_user, tenant=tenant
    )
    with scope(tenant=tenant.pk), clock.frozen(activation.expires_at):
        with pytest.raises(ValidationError):
            activation_status_move(
                activation=activation, to=ActivationStatus.APPROVED, actor=admin_user
            )
        assert PartnerActivation.objects.get().status == ActivationStatus.PENDING
    assert _activation_moves() == []
