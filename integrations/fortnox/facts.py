"""What the Fortnox connector declares about Fortnox (integrations/facts.py): entity types
and directions, the marker each is looked up by, the scope and module each needs, how
Fortnox clears a field (``API_BLANK``) and compares values (numbers come back as strings in
lists), its rate limit, and how sure the engine must be before creating a record again
after an unclear create."""

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

RATE_LIMIT = 25
RATE_WINDOW = 5.0
BLANK = "API_BLANK"

FORTNOX_FACTS = SystemFacts(
    system="fortnox",
    name="Fortnox",
    entities=(
        EntityFacts(
            "unit",
            BOTH,
            marker="Code",
            scope="settings",
            module=_("settings"),
            what=_("units"),
            name=_("unit"),
        ),
        EntityFacts(
            "product",
            BOTH,
            marker="ArticleNumber",
            scope="article",
            module=_("article register"),
            what=_("products"),
            name=_("product"),
        ),
        EntityFacts(
            "customer",
            BOTH,
            marker="CustomerNumber",
            scope="customer",
            module=_("customer register"),
            what=_("customers"),
            name=_("customer"),
        ),
        EntityFacts(
            "project",
            TO_REMOTE,
            marker="ProjectNumber",
            scope="project",
            module=_("project"),
            what=_("projects"),
            name=_("project"),
        ),
        EntityFacts(
            "invoice",
            TO_REMOTE,
            marker="ExternalInvoiceReference1",
            scope="invoice",
            module=_("invoicing"),
            what=_("invoices"),
            name=_("customer invoice"),
        ),
        EntityFacts(
            "project_fee",
            TO_LOCAL,
            scope="supplierinvoice",
            module=_("supplier-invoice"),
            what=_("project fees"),
            name=_("project fee"),
        ),
        EntityFacts(
            "invoice_attachment",
            TO_REMOTE,
            scope="inbox",
            module=_("inbox and archive"),
            what=_("invoice attachments"),
            name=_("invoice attachment"),
        ),
    ),
    rate_limit=RateLimit(RATE_LIMIT, RATE_WINDOW),
    blank=BLANK,
    # Fortnox may commit a write well after answering 5xx or timing out: three look-ups
    # that find nothing, the last ones at least 15 minutes after the write, before a new
    # create.
    lookup=LookupPolicy(delays=(2.0, 8.0), absent_needed=3, settle=timedelta(minutes=15)),
)
