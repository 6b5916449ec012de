"""The partner rows moved from the subscriptions app to the partners app (migrations
`subscriptions 0011` and `partners 0001`) without a row lost: rows written through the
models as they were before the move are read, unchanged and still linked, through the
partners app's models after it; their content types (and what points at them) follow."""

import datetime

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_scopes import scopes_disabled

from partners.models import (
    ActivationStatus,
    Engagement,
    PartnerActivation,
    PartnerInvitation,
    PartnerTermsAcceptance,
    PartnerTermsVersion,
    SupportRequest,
    SupportRequestStatus,
)
from tests.factories import (
    CollaborationFactory,
    OperatorFactory,
    PartnerFactory,
    SubscriptionFactory,
    TenantFactory,
    UserFactory,
)

BEFORE = [("subscriptions", "0010_line_texts"), ("partners", None)]
AFTER = [("partners", "0001_initial")]
MOVED = {
    "engagement",
    "partneractivation",
    "partnerinvitation",
    "partnertermsacceptance",
    "partnertermsversion",
    "supportrequest",
}
WHEN = datetime.datetime(2025, 6, 5, 9, 30, tzinfo=datetime.UTC)


def _migrate(targets):
    """Migrate to `targets`; the project state there (its historical models)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor.migrate(targets)


def _content_type_apps(models) -> dict[str, str]:
    ContentType.objects.clear_cache()
    return dict(
        ContentType.objects.filter(model__in=models).values_list("model", "app_label")
    )


@pytest.fixture
def before_the_move(transactional_db):
    """The database as it was before the move (the partner models in subscriptions); back
    at the latest migrations afterwards, whatever the test did."""
    state = _migrate(BEFORE)
    yield state.apps
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_every_partner_row_survives_the_move_to_the_partners_app(before_the_move):
    old = before_the_move
    # Moving back gave the content types back to subscriptions, as they were before.
    assert _content_type_apps(MOVED) == dict.fromkeys(MOVED, "subscriptions")
    with scopes_disabled():
        tenant = TenantFactory(name="Aalto Consulting Oy")
        partner = PartnerFactory(name="Tilitoimisto Luku Oy")
        user = UserFactory(email="anna@luku.test")
        collaboration = CollaborationFactory(tenant=tenant, partner=partner, status="active")
        subscription = SubscriptionFactory(tenant=tenant)
    operator = OperatorFactory()

    engagement = old.get_model("subscriptions", "Engagement").objects.create(
        partner_id=partner.pk, name="Bookkeeping 2025", customer_id=tenant.pk, created_at=WHEN
    )
    free = old.get_model("subscriptions", "Engagement").objects.create(
        partner_id=partner.pk, name="Payroll 2026", created_at=WHEN
    )
    invitation = old.get_model("subscriptions", "PartnerInvitation").objects.create(
        tenant_id=tenant.pk,
        partner_id=partner.pk,
        email="anna@luku.test",
        token_hash="a" * 64,
        invited_by_id=user.pk,
        created_at=WHEN,
        expires_at=WHEN + datetime.timedelta(days=14),
        accepted_at=WHEN,
        accepted_by_id=user.pk,
    )
    terms = old.get_model("subscriptions", "PartnerTermsVersion").objects.create(
        version="2025-01", title="Partner terms", published_on=datetime.date(2025, 1, 1)
    )
    acceptance = old.get_model("subscriptions", "PartnerTermsAcceptance").objects.create(
        partner_id=partner.pk,
        version="2025-01",
        accepted_by_id=user.pk,
        accepted_at=WHEN,
        invitation_id=invitation.pk,
    )
    activation = old.get_model("subscriptions", "PartnerActivation").objects.create(
        tenant_id=tenant.pk,
        partner_id=partner.pk,
        collaboration_id=collaboration.pk,
        engagement_id=engagement.pk,
        scenario="existing_subscription",
        edition="business",
        seats=12,
        invoice_recipient="partner",
        agreement_months=12,
        currency="EUR",
        status="approved",
        admin_name="",
        admin_email="",
        token_hash="b" * 64,
        expires_at=WHEN + datetime.timedelta(days=14),
        idempotency_key="key-1",
        created_by_id=user.pk,
        created_at=WHEN,
        approved_by_id=user.pk,
        approved_at=WHEN,
        subscription_id=subscription.pk,
    )
    support = old.get_model("subscriptions", "SupportRequest").objects.create(
        tenant_id=tenant.pk,
        partner_id=partner.pk,
        requested_edition="professional",
        message="Fewer features, please.",
        status="open",
        created_by_id=user.pk,
        created_at=WHEN,
    )
    engagement_type = ContentType.objects.get(app_label="subscriptions", model="engagement")
    permission_ids = set(
        Permission.objects.filter(content_type=engagement_type).values_list("pk", flat=True)
    )
    assert len(permission_ids) == 4  # add, change, delete, view
    log = LogEntry.objects.create(
        user=operator,
        content_type=engagement_type,
        object_id=str(engagement.pk),
        object_repr="Bookkeeping 2025",
        action_flag=ADDITION,
    )

    _migrate(AFTER)

    with scopes_disabled():
        assert list(Engagement.objects.order_by("pk").values_list("pk", "name", "customer_id")) == [
            (engagement.pk, "Bookkeeping 2025", tenant.pk),
            (free.pk, "Payroll 2026", None),
        ]
        moved_invitation = PartnerInvitation.objects.get()
        assert (moved_invitation.pk, moved_invitation.tenant, moved_invitation.accepted_by) == (
            invitation.pk,
            tenant,
            user,
        )
        assert PartnerTermsVersion.objects.get().pk == terms.pk
        moved_acceptance = PartnerTermsAcceptance.objects.get()
        assert (moved_acceptance.pk, moved_acceptance.invitation) == (
            acceptance.pk,
            moved_invitation,
        )
        moved = PartnerActivation.objects.select_related("engagement").get()
        assert moved.pk == activation.pk
        assert moved.engagement.name == "Bookkeeping 2025"
        assert (moved.collaboration, moved.subscription) == (collaboration, subscription)
        assert (moved.status, moved.seats, moved.idempotency_key) == (
            ActivationStatus.APPROVED,
            12,
            "key-1",
        )
        moved_support = SupportRequest.objects.get()
        assert (moved_support.pk, moved_support.status, moved_support.message) == (
            support.pk,
            SupportRequestStatus.OPEN,
            "Fewer features, please.",
        )
        # The table's sequence goes on where it was.
        later = Engagement.objects.create(partner=partner, name="Audit 2026", created_at=WHEN)
        assert later.pk > free.pk

    # The content types are the partners app's now: the same rows, so the permissions and
    # the admin's log entry still point at the engagement model.
    assert _content_type_apps(MOVED) == dict.fromkeys(MOVED, "partners")
    assert ContentType.objects.get_for_model(Engagement).pk == engagement_type.pk
    moved_permissions = Permission.objects.filter(
        content_type__app_label="partners", content_type__model="engagement"
    )
    assert set(moved_permissions.values_list("pk", flat=True)) == permission_ids
    log.refresh_from_db()
    assert log.get_edited_object() == Engagement.objects.get(pk=engagement.pk)
