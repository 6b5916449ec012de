"""What the eEkonomi connector declares about Visma eEkonomi (the eAccounting API v2;
integrations/facts.py): entity types and directions, the marker each is looked up by after
an unclear create, the module each needs, its rate limit, and how sure the engine must be
before creating a record again.

Units are read-only in eEkonomi (a product whose unit eEkonomi lacks is skipped), invoices
go as drafts (``customerinvoicedrafts``) carrying our reference in ``OurReference``.
"""

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

# 600 requests a minute, counted per client and endpoint (integrations/eaccounting/client.py).
RATE_LIMIT = 600
RATE_WINDOW = 60.0

EACCOUNTING_FACTS = SystemFacts(
    system="visma_eekonomi",
    name="Visma eEkonomi",
    entities=(
        EntityFacts(
            "cost_centre",
            TO_REMOTE,
            marker="ShortName",
            scope="ea:accounting",
            module=_("cost centre"),
            what=_("cost centres"),
        ),
        EntityFacts(
            "product",
            BOTH,
            marker="Number",
            scope="ea:sales",
            module=_("article register"),
            what=_("products"),
        ),
        EntityFacts(
            "customer",
            BOTH,
            marker="CustomerNumber",
            scope="ea:sales",
            module=_("customer register"),
            what=_("customers"),
        ),
        EntityFacts(
            "project",
            TO_REMOTE,
            marker="Number",
            scope="ea:sales",
            module=_("project"),
            what=_("projects"),
        ),
        EntityFacts(
            "invoice",
            TO_REMOTE,
            marker="OurReference",
            scope="ea:sales",
            module=_("invoicing"),
            what=_("invoices"),
        ),
        EntityFacts(
            "project_fee",
            TO_LOCAL,
            scope="ea:purchase",
            module=_("supplier-invoice"),
            what=_("project fees"),
        ),
    ),
    rate_limit=RateLimit(RATE_LIMIT, RATE_WINDOW),
    # eEkonomi replaces a record on PUT: an empty value clears the field.
    blank=None,
    # A write the API did not answer may still land: three look-ups that find nothing, the
    # last ones at least 15 minutes after the write, before a new create.
    lookup=LookupPolicy(delays=(2.0, 8.0), absent_needed=3, settle=timedelta(minutes=15)),
)
