"""A tenant's billing contacts (DESIGN §3.6): the people who get its invoices and order
confirmations by e-mail. A contact is a user of the tenant (at the user's current address)
or an external address with a name. A tenant keeps at least one once it has any, and the
page recommends two or more. A tenant's admins are never contacts implicitly.

A partner that pays its customers' subscriptions has billing contacts of its own (the same
rows with ``partner`` set, in ``billing.scoping.partner_scope``); which of them get its
invoices is decided here too (``partner_billing_contact_recipients``), the partner's pages
that edit them are in the partners app.
"""

from __future__ import annotations

import django.dispatch
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.audit import AuditAction, audit_record
from accounts.models import Membership, Partner, PartnerMembership, Tenant, User
from accounts.tenancy import tenant_scope
from billing.models import BillingContact
from billing.scoping import partner_scope
from severa import clock
from severa.errors import DomainError

# Below this many contacts the contacts page recommends adding another.
RECOMMENDED_CONTACT_COUNT = 2

# Sent with ``contact`` and ``tenant`` when a billing contact is removed, inside the
# removal's transaction and *before* the row is deleted (the contact still has its pk), so a
# receiver can revoke the contact's document links atomically with the removal: if the
# receiver raises, nothing is removed. Receivers write to the database only; anything that
# leaves it (e-mail, HTTP) they defer with ``transaction.on_commit``.
billing_contact_removed = django.dispatch.Signal()


class LastBillingContactError(DomainError):
    """Refused: the contact is the tenant's (or partner's) only one."""

    api_status = 409
    api_code = "last_billing_contact"
    messages = {
        "last_billing_contact": gettext_lazy(
            "%(contact)s is the only billing contact and cannot be removed: invoices "
            "need at least one. Add another contact first."
        )
    }


def billing_contacts_list(*, tenant: Tenant) -> QuerySet[BillingContact]:
    """The tenant's billing contacts, oldest first (call inside the tenant's scope)."""
    return BillingContact.objects.filter(tenant=tenant).select_related("user")


def billing_contact_user_candidates(*, tenant: Tenant) -> QuerySet[User]:
    """Active users of the tenant who are not billing contacts yet."""
    return (
        User.objects.filter(is_active=True, memberships__tenant=tenant, memberships__is_active=True)
        .exclude(billing_contacts__tenant=tenant)
        .order_by("first_name", "last_name", "username")
    )


def billing_contact_recipients(*, tenant: Tenant) -> list[tuple[BillingContact, str]]:
    """The contacts that get the tenant's billing documents, each with its address: each
    address once (compared without case), users at their current address, deactivated users
    and users no longer in the tenant left out. Works with or without a tenant scope."""
    with tenant_scope(tenant):
        contacts = list(billing_contacts_list(tenant=tenant))
        active_user_ids = set(
            Membership.objects.filter(tenant=tenant, is_active=True).values_list(
                "user_id", flat=True
            )
        )
    return contact_recipients(contacts=contacts, active_user_ids=active_user_ids)


def contact_recipients(
    *, contacts: list[BillingContact], active_user_ids: set[int]
) -> list[tuple[BillingContact, str]]:
    """`contacts` that get documents, each with its address: each address once (compared
    without case), users at their current address, users not among `active_user_ids` (or
    deactivated) left out. Shared by tenants' and partners' contacts."""
    recipients: list[tuple[BillingContact, str]] = []
    seen: set[str] = set()
    for contact in contacts:
        if contact.user_id is not None and (
            not contact.user.is_active or contact.user_id not in active_user_ids
        ):
            continue
        address = contact.address.strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            recipients.append((contact, address))
    return recipients


def partner_billing_contacts_list(*, partner: Partner) -> QuerySet[BillingContact]:
    """The partner's billing contacts, oldest first (call inside the partner's scope)."""
    return BillingContact.objects.filter(partner=partner).select_related("user")


def partner_billing_contact_recipients(*, partner: Partner) -> list[tuple[BillingContact, str]]:
    """The contacts that get the partner's invoices, each address once; users no longer
    active in the partner left out."""
    with partner_scope(partner):
        contacts = list(partner_billing_contacts_list(partner=partner))
    active_user_ids = set(
        PartnerMembership.objects.filter(partner=partner, is_active=True).values_list(
            "user_id", flat=True
        )
    )
    return contact_recipients(contacts=contacts, active_user_ids=active_user_ids)


def billing_contact_addresses(*, tenant: Tenant) -> list[str]:
    """The addresses of `billing_contact_recipients`."""
    return [address for _contact, address in billing_contact_recipients(tenant=tenant)]


def billing_contact_user_find(*, tenant: Tenant, user_id: int) -> User:
    """An active user of the tenant by id, or the ValidationError that adding an outsider
    gives (so an id of another tenant's user and an unknown id answer alike)."""
    user = User.objects.filter(
        pk=user_id, is_active=True, memberships__tenant=tenant, memberships__is_active=True
    ).first()
    if user is None:
        raise _not_a_user_of_the_tenant()
    return user


def _not_a_user_of_the_tenant() -> ValidationError:
    # The same answer for a user of another tenant and for no user at all: ids leak nothing.
    return ValidationError(
        {"user_id": _("Only active users of the company can be billing contacts.")}
    )


def external_contact_check(*, email: str, name: str, current) -> None:
    """Refuse (ValidationError per field) an external contact's address or name, or an
    address among `current` contacts already. Also used for partners' contacts."""
    errors: dict[str, list[str]] = {}
    email_limit = BillingContact._meta.get_field("email").max_length
    try:
        validate_email(email)
    except ValidationError as error:
        errors["email"] = list(error.messages)
    else:
        if len(email) > email_limit:
            errors["email"] = [_("At most %(limit)d characters, please.") % {"limit": email_limit}]
    name_limit = BillingContact._meta.get_field("name").max_length
    if not name:
        errors["name"] = [_("Give the name of the person or team at this address.")]
    elif len(name) > name_limit:
        errors["name"] = [_("At most %(limit)d characters, please.") % {"limit": name_limit}]
    if errors:
        raise ValidationError(errors)
    if email in {contact.address.lower() for contact in current}:
        raise ValidationError(
            {"email": _("%(email)s is already a billing contact.") % {"email": email}}
        )


@transaction.atomic
def billing_contact_add(
    *,
    tenant: Tenant,
    actor: User | None,
    user: User | None = None,
    email: str = "",
    name: str = "",
) -> BillingContact:
    """Add a user of the tenant, or an external e-mail address with a name, as a billing
    contact. Raises ValidationError (per field) and adds nothing when refused."""
    email = (email or "").strip().lower()
    name = (name or "").strip()
    if user is not None and (email or name):
        raise ValidationError(_("Give either a user or an e-mail address and a name, not both."))
    if user is None and not email:
        raise ValidationError({"email": _("Give a user or an e-mail address.")})
    # The tenant row is the lock for its billing contacts.
    Tenant.objects.select_for_update().get(pk=tenant.pk)
    current = billing_contacts_list(tenant=tenant)
    if user is not None:
        is_member = Membership.objects.filter(tenant=tenant, user=user, is_active=True).exists()
        if not user.is_active or not is_member:
            raise _not_a_user_of_the_tenant()
        if current.filter(user=user).exists():
            raise ValidationError({"user_id": _("This user is already a billing contact.")})
    else:
        external_contact_check(email=email, name=name, current=current)
    try:
        with transaction.atomic():
            contact = BillingContact.objects.create(
                tenant=tenant,
                user=user,
                email="" if user is not None else email,
                name="" if user is not None else name,
                created_at=clock.now(),
            )
    except IntegrityError:  # pragma: no cover - the tenant lock makes this a last resort
        raise ValidationError(_("This contact was just added by someone else.")) from None
    audit_record(
        actor=actor,
        action=AuditAction.BILLING_CONTACT_ADDED,
        tenant=tenant,
        details={"contact": contact.address, "user": user.username if user is not None else None},
    )
    return contact


@transaction.atomic
def billing_contact_remove(*, contact: BillingContact, actor: User | None) -> None:
    """Remove a billing contact, unless it is the tenant's last one
    (``LastBillingContactError``). Sends ``billing_contact_removed`` before deleting."""
    tenant = Tenant.objects.select_for_update().get(pk=contact.tenant_id)
    with tenant_scope(tenant):
        contact = BillingContact.objects.select_related("user").filter(pk=contact.pk).first()
        if contact is None:  # removed meanwhile by someone else: nothing left to do
            return
        if not BillingContact.objects.filter(tenant=tenant).exclude(pk=contact.pk).exists():
            raise LastBillingContactError("last_billing_contact", contact=contact.address)
        billing_contact_removed.send(sender=BillingContact, contact=contact, tenant=tenant)
        audit_record(
            actor=actor,
            action=AuditAction.BILLING_CONTACT_REMOVED,
            tenant=tenant,
            details={
                "contact": contact.address,
                "user": contact.user.username if contact.user_id is not None else None,
            },
        )
        contact.delete()
