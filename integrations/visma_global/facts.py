"""What the Visma Global connector declares about Visma Global (integrations/facts.py).

Visma Global is reached through the agent (integrations/agents.py): a record is looked up
after an unclear create by its number (an order by `ExternalRef`, which carries our
reference); a register whose module the company has not licensed blocks that entity type.
Calls are made one at a time by the agent; the limit protects the company database the
agent works in (two connections to one company share it).
"""

from __future__ import annotations

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

VISMA_GLOBAL_FACTS = SystemFacts(
    system="visma_global",
    name="Visma Global",
    entities=(
        EntityFacts("business_unit", BOTH, marker="DepartmentNo", what=_("departments")),
        EntityFacts(
            "employee",
            BOTH,
            marker="Email",
            scope="Payroll",
            module=_("payroll"),
            what=_("employees"),
        ),
        EntityFacts(
            "product",
            BOTH,
            marker="ArticleNo",
            scope="Article",
            module=_("article register"),
            what=_("products"),
        ),
        EntityFacts("customer", BOTH, marker="CustomerNo", what=_("customers")),
        EntityFacts(
            "project",
            BOTH,
            marker="ProjectNo",
            scope="Project",
            module=_("project"),
            what=_("projects"),
        ),
        EntityFacts(
            "invoice",
            TO_REMOTE,
            marker="ExternalRef",
            scope="Order",
            module=_("order"),
            what=_("invoices"),
        ),
        EntityFacts(
            "project_fee",
            TO_LOCAL,
            scope="Accounting",
            module=_("accounting"),
            what=_("supplier invoices (project costs)"),
        ),
    ),
    rate_limit=RateLimit(40, 1.0),
    lookup=LookupPolicy(delays=(5.0, 20.0), absent_needed=3),
)
