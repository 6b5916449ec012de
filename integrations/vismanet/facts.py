"""What the Visma.net ERP connector declares (integrations/facts.py): entity types and
directions, the field each is looked up by after an unclear create, the API resource and
ERP module each needs (a company without the module is refused with 403), its rate limit
(advertised on every answer; this is the documented standard window) and how sure the
engine must be before creating again after an unclear create."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from integrations.facts import (
    BOTH,
    TO_LOCAL,
    TO_REMOTE,
    EntityFacts,
    LookupPolicy,
    RateLimit,
    SystemFacts,
)

VISMANET_FACTS = SystemFacts(
    system="visma_net",
    name="Visma.net ERP",
    entities=(
        EntityFacts(
            "customer",
            BOTH,
            marker="number",
            scope="customer",
            module=_("accounts receivable"),
            what=_("customers"),
        ),
        EntityFacts(
            "product",
            BOTH,
            marker="inventoryNumber",
            scope="inventory",
            module=_("inventory"),
            what=_("products"),
        ),
        EntityFacts(
            "project",
            TO_REMOTE,
            marker="projectID",
            scope="project",
            module=_("project accounting"),
            what=_("projects"),
        ),
        EntityFacts(
            "invoice",
            TO_REMOTE,
            marker="externalReference",
            scope="customerinvoice",
            module=_("accounts receivable"),
            what=_("invoices"),
        ),
        EntityFacts(
            "project_fee",
            TO_LOCAL,
            scope="supplierInvoice",
            module=_("accounts payable"),
            what=_("project fees"),
        ),
    ),
    # The standard policy: requests per hour per company and client, in a fixed window.
    rate_limit=RateLimit(3600, 3600.0),
    lookup=LookupPolicy(delays=(2.0, 8.0), absent_needed=3, settle=timedelta(minutes=15)),
)
