"""Partners (DESIGN §3.8): engagements, the three ways to activate a collaboration, the
customer's approval by a link with the terms, invitations from a customer to a partner, and
ending a collaboration.

Access is decided by the callers (``accounts.tenancy.partner_access`` for the partner,
``tenant_view``/``TenantScopedAPIMixin`` for the customer's admins); these functions check
what only they can know: that an engagement is the partner's, that the approving user is an
administrator of the customer, that a token is open. Refusals raise ``ValidationError``
(a dict of field name to messages where a field is to blame) and write nothing; e-mails are
sent after the commit.

The package: ``customers`` (engagements, customers, ending, partner organisations),
``activation`` (the three ways in and the approval), ``invitations`` (customer to partner).
"""

from subscriptions.partners.activation import (
    ACTIVATION_REQUESTS_PER_HOUR,
    ACTIVATION_VALID_DAYS,
    AGREEMENT_MONTHS_CHOICES,
    CURRENCY_BY_COUNTRY,
    ActivationRateLimited,
    ExistingCustomer,
    NewCustomer,
    activation_approve,
    activation_create,
    activation_decline,
    activation_find,
    activation_seller,
    activation_tenant,
    activations_pending_of_tenant,
    agreement_end_for,
    edition_name,
    seller_for,
)
from subscriptions.partners.customers import (
    PartnerCustomer,
    collaboration_end,
    collaborations_of_tenant,
    engagement_create,
    partner_create,
    partner_customer,
    partner_customers,
    partner_user_emails,
)
from subscriptions.partners.invitations import (
    invited_customer_edition,
    partner_invitation_accept,
    partner_invitation_create,
    partner_invitation_find,
    partner_invitations_of_tenant,
    partner_invitations_open,
    partner_terms_current,
)

__all__ = [
    "invited_customer_edition",
    "partner_terms_current",
    "ACTIVATION_REQUESTS_PER_HOUR",
    "ACTIVATION_VALID_DAYS",
    "AGREEMENT_MONTHS_CHOICES",
    "CURRENCY_BY_COUNTRY",
    "ActivationRateLimited",
    "ExistingCustomer",
    "NewCustomer",
    "PartnerCustomer",
    "activation_approve",
    "activation_create",
    "activation_decline",
    "activation_find",
    "activation_seller",
    "activation_tenant",
    "activations_pending_of_tenant",
    "agreement_end_for",
    "collaboration_end",
    "collaborations_of_tenant",
    "edition_name",
    "engagement_create",
    "partner_create",
    "partner_customer",
    "partner_customers",
    "partner_invitation_accept",
    "partner_invitation_create",
    "partner_invitation_find",
    "partner_invitations_of_tenant",
    "partner_invitations_open",
    "partner_user_emails",
    "seller_for",
]
