"""One audit for every actor: typed actions, any actor (a company's user, a partner's user,
an operator, the system, a connection), a tenant or a partner or neither; the company's
administrators read their company's events and operators everyone's."""

import datetime

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from accounts.audit import Actor, AuditAction, audit_action_label, audit_record
from accounts.models import AuditEvent, Role
from accounts.services import invitation_create, membership_set_role
from severa import clock
from tests.factories import MembershipFactory, PartnerFactory, PartnerMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _events():
    with scopes_disabled():
        return list(
            AuditEvent.objects.order_by("pk").values_list(
                "tenant__name", "partner__name", "actor_kind", "actor_label", "action"
            )
        )


def test_an_event_keeps_the_kind_and_name_of_every_kind_of_actor(tenant, operator):
    partner = PartnerFactory(name="Tilitoimisto Oy")
    person = UserFactory(username="anna", first_name="Anna", last_name="Aalto")
    partner_user = PartnerMembershipFactory(
        partner=partner, user__username="pekka", user__first_name="", user__last_name=""
    ).user
    with scopes_disabled():
        MembershipFactory(tenant=tenant, user=person)
    audit_record(actor=person, action=AuditAction.USER_ADDED, tenant=tenant)
    audit_record(actor=partner_user, action=AuditAction.PARTNER_INVITED, partner=partner)
    audit_record(actor=operator, action=AuditAction.USER_DEACTIVATED, subject=person)
    audit_record(actor=None, action=AuditAction.INVOICE_OVERDUE, tenant=tenant)
    audit_record(
        actor=Actor.connection("integration:fortnox:7"),
        action=AuditAction.CUSTOMER_CREATED,
        tenant=tenant,
    )
    assert _events() == [
        ("Aalto Consulting Oy", None, "user", "Anna Aalto (anna)", "user.added"),
        (None, "Tilitoimisto Oy", "partner_user", "pekka", "partner.invited"),
        (
            None,
            None,
            "operator",
            f"{operator.get_full_name()} ({operator.username})",
            "user.deactivated",
        ),
        ("Aalto Consulting Oy", None, "system", "system", "invoice.overdue"),
        (
            "Aalto Consulting Oy",
            None,
            "connection",
            "integration:fortnox:7",
            "records.customer.created",
        ),
    ]
    with scopes_disabled():
        deactivated = AuditEvent.objects.get(action="user.deactivated")
    assert (deactivated.subject_type, deactivated.subject_id, deactivated.subject_label) == (
        "accounts.user",
        str(person.pk),
        "Anna Aalto (anna)",
    )


def test_the_event_outlives_its_actor(tenant):
    person = UserFactory(username="leaver", first_name="", last_name="")
    audit_record(actor=person, action=AuditAction.TERMS_ACCEPTED, tenant=tenant)
    person.delete()
    with scopes_disabled():
        event = AuditEvent.objects.get()
    assert (event.actor, event.actor_kind, event.actor_label) == (None, "user", "leaver")


def test_a_free_string_is_not_an_action(tenant):
    with pytest.raises(TypeError):
        audit_record(actor=None, action="user.added", tenant=tenant)
    assert _events() == []


def test_an_old_action_no_longer_known_reads_as_stored():
    assert audit_action_label(value="tenant.provisioned") == "Company created"
    assert audit_action_label(value="something.retired") == "something.retired"


def test_a_role_change_is_audited_in_its_transaction_and_a_refused_one_is_not(
    tenant, admin_user, member_user
):
    with scope(tenant=tenant.pk):
        membership = member_user.memberships.get()
        membership_set_role(membership=membership, role=Role.BILLING, actor=admin_user)
        with pytest.raises(Exception, match="Unknown role"):
            membership_set_role(membership=membership, role="owner", actor=admin_user)
    assert [event[2:] for event in _events()] == [
        ("user", f"{admin_user.get_full_name()} ({admin_user.username})", "user.role_changed"),
    ]


# The pages.


def _audited(tenant, other_tenant, admin_user):
    with scope(tenant=tenant.pk):
        invitation_create(tenant=tenant, email="new@example.test", role="member", actor=admin_user)
    with scopes_disabled():
        other_admin = MembershipFactory(tenant=other_tenant, role="admin").user
    with scope(tenant=other_tenant.pk):
        invitation_create(
            tenant=other_tenant, email="secret@example.test", role="member", actor=other_admin
        )
    audit_record(actor=None, action=AuditAction.BILLING_RUN_FINISHED)


def test_an_admin_reads_the_companys_audit_log_newest_first_and_nothing_of_others(
    tenant, other_tenant, admin_user, verified_client
):
    _audited(tenant, other_tenant, admin_user)
    with scope(tenant=tenant.pk), clock.frozen(clock.now() + datetime.timedelta(days=1)):
        audit_record(actor=admin_user, action=AuditAction.TERMS_ACCEPTED, tenant=tenant)
    client = verified_client(admin_user)
    page = client.get(reverse("tenant_audit", args=[tenant.pk]))
    assert page.status_code == 200
    rows = [row["action"] for row in page.context["rows"]]
    assert rows == ["Terms of service accepted", "Invitation sent"]
    html = page.content.decode()
    assert "new@example.test" in html
    assert "secret@example.test" not in html
    assert "Billing run finished" not in html
    # Linked from the company's navigation, for administrators.
    assert (
        reverse("tenant_audit", args=[tenant.pk])
        in client.get(reverse("tenant_home", args=[tenant.pk])).content.decode()
    )


def test_a_member_may_not_read_the_audit_log_and_another_companys_is_a_404(
    tenant, other_tenant, admin_user, member_user, verified_client
):
    _audited(tenant, other_tenant, admin_user)
    client = verified_client(member_user)
    assert client.get(reverse("tenant_audit", args=[tenant.pk])).status_code == 403
    assert (
        reverse("tenant_audit", args=[tenant.pk])
        not in client.get(reverse("tenant_home", args=[tenant.pk])).content.decode()
    )
    admin = verified_client(admin_user)
    assert admin.get(reverse("tenant_audit", args=[other_tenant.pk])).status_code == 404


def test_an_operator_reads_every_event_and_filters_by_company_partner_and_action(
    tenant, other_tenant, admin_user, operator, verified_client
):
    _audited(tenant, other_tenant, admin_user)
    partner = PartnerFactory(name="Tilitoimisto Oy")
    audit_record(actor=operator, action=AuditAction.PARTNER_INVITED, partner=partner)
    client = verified_client(operator)
    url = reverse("operator_audit")

    def actions(query=""):
        page = client.get(f"{url}{query}")
        assert page.status_code == 200
        return [row["event"].action for row in page.context["rows"]]

    assert actions() == [
        "partner.invited",
        "billing_run.finished",
        "invitation.created",
        "invitation.created",
    ]
    assert actions(f"?tenant={other_tenant.pk}") == ["invitation.created"]
    assert actions(f"?partner={partner.pk}") == ["partner.invited"]
    assert actions("?action=billing_run.finished") == ["billing_run.finished"]


def test_the_operators_audit_log_is_a_404_to_everyone_else(tenant, admin_user, verified_client):
    assert verified_client(admin_user).get(reverse("operator_audit")).status_code == 404
