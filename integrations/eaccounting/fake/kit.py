"""The conformance kit's handle on the fake eEkonomi (tests/integrations/conformance/).

Test support: nothing in a sync imports it. The kit runs at a scaled-down rate limit (40
requests per 2 s per client and endpoint, the fake and the client alike) so that a few
dozen records meet it; the benchmark (bench/eekonomi.py) runs at the real 600 a minute.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import Counter
from typing import Any

from django_scopes import scope, scopes_disabled

from integrations.eaccounting import client as eaccounting_client
from integrations.eaccounting import connector as eaccounting_connector
from integrations.eaccounting.facts import EACCOUNTING_FACTS
from integrations.eaccounting.fake.app import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from integrations.eaccounting.fake.server import FakeEAccountingServer
from integrations.facts import RateLimit, SystemFacts
from integrations.fakes import Faults
from integrations.models import Connection
from integrations.oauth import authorization_complete, callback_url
from records.models import Product

CLIENT_TIMEOUT = 0.2
KIT_RATE = RateLimit(40, 2.0)
KIT_FACTS = dataclasses.replace(
    EACCOUNTING_FACTS.with_lookup(
        delays=(0.01, 0.02), absent_needed=2, settle=datetime.timedelta(seconds=1)
    ),
    rate_limit=KIT_RATE,
)
# Where each entity type is created, and the fake's resources each one's module covers.
CREATE_PATHS = {
    "product": "articles",
    "customer": "customers",
    "project": "projects",
    "invoice": "customerinvoicedrafts",
}
MODULE_PATHS = {
    **{entity: (path,) for entity, path in CREATE_PATHS.items()},
    "invoice": ("customerinvoicedrafts", "customerinvoices"),
    "cost_centre": ("costcenters", "costcenteritems"),
    "project_fee": ("supplierinvoices",),
}


class EEkonomiKit:
    system = "visma_eekonomi"
    facts: SystemFacts = KIT_FACTS
    create_kinds = tuple(CREATE_PATHS)
    settle_seconds = 1.0

    def start(self, settings: Any, monkeypatch: Any) -> None:
        self.server = FakeEAccountingServer(
            seed=15, rate_limit=KIT_RATE.requests, rate_window=KIT_RATE.window
        ).start()
        self.fake = self.server.fake
        self.no_faults()
        settings.EACCOUNTING_API_URL = self.server.api_url
        settings.EACCOUNTING_AUTH_URL = self.server.auth_url
        settings.EACCOUNTING_TOKEN_URL = self.server.token_url
        settings.EACCOUNTING_REVOKE_URL = self.server.revoke_url
        settings.EACCOUNTING_CLIENT_ID = DEFAULT_CLIENT_ID
        settings.EACCOUNTING_CLIENT_SECRET = DEFAULT_CLIENT_SECRET
        settings.EACCOUNTING_TIMEOUT = CLIENT_TIMEOUT
        monkeypatch.setattr(eaccounting_client, "RATE_LIMIT", KIT_RATE.requests)
        monkeypatch.setattr(eaccounting_client, "RATE_WINDOW", KIT_RATE.window)
        monkeypatch.setattr(eaccounting_client, "RATE_MARGIN", 0.1)
        monkeypatch.setattr(
            eaccounting_connector,
            "CLIENT_OPTIONS",
            {"backoff_base": 0.01, "default_retry_after": 0.2, "timeout": CLIENT_TIMEOUT},
        )
        monkeypatch.setattr(eaccounting_connector.EEkonomiConnector, "facts", KIT_FACTS)

    def stop(self) -> None:
        self.server.stop()

    # Connections -------------------------------------------------------------------
    def connect(self, connection: Connection, admin: Any) -> Connection:
        """Authorise `connection` through the fake identity server. eEkonomi invoice rows
        need an article, so the connection's default product (for rows without one) is the
        tenant's first product, as a tenant would set it."""

        with scopes_disabled():
            first = Product.objects.filter(tenant_id=connection.tenant_id).order_by("pk").first()
            if connection.default_product_id is None and first is not None:
                Connection.objects.filter(pk=connection.pk).update(default_product_id=first.pk)
                connection.default_product_id = first.pk
        code = self.fake.issue_code(redirect_uri=callback_url())
        with scope(tenant=connection.tenant_id):
            return authorization_complete(connection=connection, code=code, actor=admin)

    def expire_access_tokens(self) -> None:
        self.fake.expire_access_tokens()

    def token_refreshes(self) -> int:
        return sum(
            1
            for entry in self.fake.requests(method="POST", path_prefix="/connect/token")
            if entry.status == 200
        )

    # Faults --------------------------------------------------------------------------
    def random_faults(self, rate: float) -> None:
        self.fake.faults = Faults(
            error_rate=rate * 0.3,
            rate_limited_rate=rate * 0.2,
            timeout_rate=rate * 0.25,
            lost_response_rate=rate * 0.25,
            timeout_seconds=0.3,
            late_commit_seconds=0.5,
        )

    def no_faults(self) -> None:
        self.fake.faults = Faults(timeout_seconds=0.3, late_commit_seconds=0.5)

    def late_commit_next_create(self, entity_type: str) -> None:
        self.fake.inject(
            "late_commit", count=1, method="POST", path_prefix=f"/v2/{CREATE_PATHS[entity_type]}"
        )

    def late_commits(self) -> int:
        return sum(1 for entry in self.fake.requests() if entry.fault == "late_commit")

    def faults_seen(self) -> Counter:
        return Counter(entry.fault for entry in self.fake.requests() if entry.fault)

    def unlicense(self, entity_type: str) -> None:
        for path in MODULE_PATHS[entity_type]:
            self.fake.unlicense(path)

    def license(self, entity_type: str) -> None:
        for path in MODULE_PATHS[entity_type]:
            self.fake.license(path)

    # The remote side -----------------------------------------------------------------
    def remote_markers(self, entity_type: str) -> Counter:
        marker = self.facts.entity(entity_type).marker
        records = self.fake.company().records
        found = list(records[CREATE_PATHS[entity_type]].values())
        if entity_type == "invoice":
            found += [item for item in records["customerinvoices"].values() if item.get(marker)]
        return Counter(str(record.get(marker)) for record in found)

    def writes(self) -> int:
        return sum(1 for entry in self.fake.requests() if entry.is_write)

    def max_in_window(self) -> int:
        return self.fake.max_in_window()

    def refused_for_rate(self) -> int:
        return sum(1 for entry in self.fake.requests() if entry.status == 429 and not entry.fault)
