"""Writes of the partner app (DESIGN §3.8), one module per entity: ``engagements``,
``activation`` (the three ways in), ``approval`` (the customer's answer by a link with the
terms), ``invitations`` (customer to partner), ``collaborations`` (ending one),
``organisations`` (a partner with its first user), ``support`` (downgrades for the
operators) and ``billing`` (the partner's billing details and contacts as a buyer). Reads
are in ``partners.selectors``.

Access is decided by the callers (``accounts.tenancy.partner_access`` for the partner,
``tenant_view``/``TenantScopedAPIMixin`` for the customer's admins); these functions check
what only they can know: that an engagement is the partner's, that the approving user is an
administrator of the customer, that a token is open. Refusals raise ``ValidationError``
(a dict of field name to messages where a field is to blame) and write nothing; e-mails are
sent after the commit.

The names below are the package's entry points for callers outside the app.
"""

# The reads the API's partner views call through this same name (partners.selectors' own).
from partners.selectors import partner_customer, partner_customers, partner_invitations_open
from partners.services.activation import (
    ACTIVATION_REQUESTS_PER_HOUR,
    ACTIVATION_VALID_DAYS,
    AGREEMENT_MONTHS_CHOICES,
    ActivationRateLimited,
    ExistingCustomer,
    NewCustomer,
    activation_create,
)
from partners.services.approval import activation_approve, activation_decline, agreement_end_for
from partners.services.collaborations import collaboration_end
from partners.services.engagements import engagement_create
from partners.services.invitations import partner_invitation_accept, partner_invitation_create
from partners.services.organisations import partner_create
from partners.services.support import partner_edition_change, support_request_resolve

__all__ = [
    "ACTIVATION_REQUESTS_PER_HOUR",
    "ACTIVATION_VALID_DAYS",
    "AGREEMENT_MONTHS_CHOICES",
    "ActivationRateLimited",
    "ExistingCustomer",
    "NewCustomer",
    "activation_approve",
    "activation_create",
    "activation_decline",
    "agreement_end_for",
    "collaboration_end",
    "engagement_create",
    "partner_create",
    "partner_customer",
    "partner_customers",
    "partner_edition_change",
    "partner_invitation_accept",
    "partner_invitation_create",
    "partner_invitations_open",
    "support_request_resolve",
]
