"""A new seller's terms of service (DESIGN §3.5): after a seller migration switched a
tenant's subscription, the tenant's admins must accept the new seller's current terms at
their first sign-in; the acceptance records who, when and which version.

A seller's current version is the `TermsVersion` named by `SellerEntity.terms_version`. A
tenant owes an acceptance only after a migration moved it to its current seller (tenants
that signed up with a seller accepted its terms then, outside this application), and only
while the seller has that version on record.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef

from accounts.audit import AuditAction, audit_record
from accounts.models import Tenant, User
from accounts.tenancy import tenant_scope
from billing.models import (
    SellerEntity,
    SellerMigrationItem,
    SellerMigrationItemStatus,
    TermsAcceptance,
    TermsVersion,
)
from severa import clock
from subscriptions.models import Subscription


def terms_current(*, seller: SellerEntity) -> TermsVersion | None:
    return TermsVersion.objects.filter(seller=seller, version=seller.terms_version).first()


def terms_pending(*, tenant: Tenant) -> TermsVersion | None:
    """The terms the tenant still has to accept, or None: one query."""
    with tenant_scope(tenant):
        switched = SellerMigrationItem.objects.filter(
            tenant=tenant,
            status=SellerMigrationItemStatus.SWITCHED,
            migration__to_seller=OuterRef("seller"),
        )
        accepted = TermsAcceptance.objects.filter(
            tenant=tenant, seller=OuterRef("seller"), version=OuterRef("version")
        )
        return (
            TermsVersion.objects.filter(
                seller__in=Subscription.objects.filter(tenant=tenant).values("seller"),
                version=F("seller__terms_version"),
            )
            .filter(Exists(switched))
            .exclude(Exists(accepted))
            .select_related("seller")
            .first()
        )


def terms_accept(*, tenant: Tenant, terms: TermsVersion, user: User) -> TermsAcceptance:
    """Record that `user` accepted `terms` for `tenant`; accepting again (a double click, two
    admins at once) returns the first record."""
    with tenant_scope(tenant):
        existing = TermsAcceptance.objects.filter(
            tenant=tenant, seller=terms.seller, version=terms.version
        ).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                acceptance = TermsAcceptance.objects.create(
                    tenant=tenant,
                    seller=terms.seller,
                    version=terms.version,
                    user=user,
                    accepted_by=user.email or user.username,
                    accepted_at=clock.now(),
                )
                audit_record(
                    actor=user,
                    action=AuditAction.TERMS_ACCEPTED,
                    tenant=tenant,
                    details={"seller": terms.seller.name, "version": terms.version},
                )
        except IntegrityError:
            return TermsAcceptance.objects.get(
                tenant=tenant, seller=terms.seller, version=terms.version
            )
    return acceptance


def terms_acceptances(*, tenant: Tenant):
    with tenant_scope(tenant):
        return list(TermsAcceptance.objects.select_related("seller", "user"))
