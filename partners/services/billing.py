"""A partner organisation as a buyer (DESIGN §3.6, §3.8): the billing details and billing
contacts of a partner that pays its customers' subscriptions (its invoices are read in
`partners.selectors`).

The rows are the tenants' models (`BillingDetails`, `BillingContact`) with `partner` set
instead of `tenant`; `billing.scoping.partner_scope` shows them. The fields are checked by
the same rules as a tenant's (`billing.details.billing_details_clean`,
`billing.contacts.external_contact_check`); the identifiers against the partner's country.
The partner's business id stays on `Partner`, its VAT number is on its billing details.
Who of the contacts gets the partner's invoices is billing's rule
(`billing.contacts.partner_billing_contact_recipients`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import AuditAction, audit_record
from accounts.models import Partner, User
from billing.contacts import (
    LastBillingContactError,
    billing_contact_removed,
    external_contact_check,
    partner_billing_contacts_list,
)
from billing.details import (
    ADDRESS_FIELDS,
    BILLING_DETAILS_FIELDS,
    DELIVERY_FIELDS,
    PAYMENT_FIELDS,
)
from billing.details import billing_details_clean as _clean
from billing.models import BillingContact, BillingDetails
from billing.scoping import partner_scope
from partners.selectors import partner_billing_details_values, partner_user_candidates
from severa import clock


@transaction.atomic
def partner_billing_details_update(
    *, partner: Partner, data: Mapping[str, Any], actor: User | None
) -> BillingDetails:
    """Check and save the partner's billing details (and its business id). Raises
    ValidationError with per-field messages and saves nothing when any is wrong."""
    clean = _clean(data=data, registered_in=partner.country)
    # The partner row is the lock for its billing details and contacts.
    locked = Partner.objects.select_for_update().get(pk=partner.pk)
    with partner_scope(locked):
        details = BillingDetails.objects.filter(partner=locked).first()
        if details is None:
            details = BillingDetails(partner=locked)
        before = partner_billing_details_values(details=details)
        for name in ADDRESS_FIELDS + DELIVERY_FIELDS + PAYMENT_FIELDS + ("vat_number",):
            setattr(details, name, clean[name])
        locked.business_id = clean["business_id"]
        changes = {
            name: [before.get(name, ""), clean[name]]
            for name in BILLING_DETAILS_FIELDS
            if before.get(name, "") != clean[name]
        }
        if details.pk is None or changes:
            details.updated_at = clock.now()
            details.save()
            locked.save(update_fields=["business_id"])
            audit_record(
                actor=actor,
                action=AuditAction.BILLING_DETAILS_UPDATED,
                partner=locked,
                subject=locked,
                details={"changes": changes},
            )
    partner.business_id = clean["business_id"]
    details.partner = partner
    return details


# Contacts.


@transaction.atomic
def partner_billing_contact_add(
    *,
    partner: Partner,
    actor: User | None,
    user: User | None = None,
    email: str = "",
    name: str = "",
) -> BillingContact:
    """Add a user of the partner, or an external address with a name, as a billing contact
    of the partner. Raises ValidationError (per field) and adds nothing when refused."""
    email = (email or "").strip().lower()
    name = (name or "").strip()
    if user is not None and (email or name):
        raise ValidationError(_("Give either a user or an e-mail address and a name, not both."))
    if user is None and not email:
        raise ValidationError({"email": _("Give a user or an e-mail address.")})
    Partner.objects.select_for_update().get(pk=partner.pk)
    with partner_scope(partner):
        current = partner_billing_contacts_list(partner=partner)
        if user is not None:
            candidates = partner_user_candidates(partner=partner)
            if not user.is_active or not candidates.filter(pk=user.pk).exists():
                raise ValidationError(
                    {"user_id": _("Only active users of the partner can be billing contacts.")}
                )
        else:
            external_contact_check(email=email, name=name, current=current)
        try:
            with transaction.atomic():
                contact = BillingContact.objects.create(
                    partner=partner,
                    user=user,
                    email="" if user is not None else email,
                    name="" if user is not None else name,
                    created_at=clock.now(),
                )
        except IntegrityError:  # pragma: no cover - the partner lock makes this a last resort
            raise ValidationError(_("This contact was just added by someone else.")) from None
    audit_record(
        actor=actor,
        action=AuditAction.BILLING_CONTACT_ADDED,
        partner=partner,
        subject_ref=(contact._meta.label_lower, contact.pk, contact.address),
        details={"contact": contact.address},
    )
    return contact


@transaction.atomic
def partner_billing_contact_remove(*, contact: BillingContact, actor: User | None) -> None:
    """Remove a partner's billing contact unless it is the last one; its invoice links are
    revoked and its unsent messages cancelled first (`billing_contact_removed`)."""
    partner = Partner.objects.select_for_update().get(pk=contact.partner_id)
    with partner_scope(partner):
        contact = BillingContact.objects.select_related("user").filter(pk=contact.pk).first()
        if contact is None:
            return
        if not BillingContact.objects.filter(partner=partner).exclude(pk=contact.pk).exists():
            raise LastBillingContactError("last_billing_contact", contact=contact.address)
        billing_contact_removed.send(sender=BillingContact, contact=contact, tenant=None)
        audit_record(
            actor=actor,
            action=AuditAction.BILLING_CONTACT_REMOVED,
            partner=partner,
            subject_ref=(contact._meta.label_lower, contact.pk, contact.address),
            details={"contact": contact.address},
        )
        contact.delete()
