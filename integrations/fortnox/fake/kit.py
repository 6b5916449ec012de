"""The conformance kit's handle on the fake Fortnox (tests/integrations/conformance/).

Every connector ships one such harness next to its fake; the kit drives it to inject faults
and to read the remote side. It is test support: nothing in a sync imports it.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

from django_scopes import scope

from integrations.facts import SystemFacts
from integrations.fortnox import connector as fortnox_connector
from integrations.fortnox.facts import FORTNOX_FACTS
from integrations.fortnox.fake.app import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Faults
from integrations.fortnox.fake.server import FakeFortnoxServer
from integrations.models import Connection
from integrations.oauth import authorization_complete, callback_url

# The client gives up after 0.2 s; the fake's late commits land after 0.5 s and its
# timeouts answer after 0.3 s. "Not there" counts from 1 s after an unclear write.
CLIENT_TIMEOUT = 0.2
KIT_FACTS = FORTNOX_FACTS.with_lookup(
    delays=(0.01, 0.02), absent_needed=2, settle=datetime.timedelta(seconds=1)
)
# Where each entity type is created, and the field of the remote record its marker is in.
CREATE_PATHS = {
    "unit": "units",
    "product": "articles",
    "customer": "customers",
    "project": "projects",
    "invoice": "invoices",
}


class FortnoxKit:
    system = "fortnox"
    facts: SystemFacts = KIT_FACTS
    create_kinds = tuple(CREATE_PATHS)
    # Seconds to wait between runs for unverified records to settle.
    settle_seconds = 1.0

    def start(self, settings: Any, monkeypatch: Any) -> None:
        self.server = FakeFortnoxServer(seed=11).start()
        self.fake = self.server.fake
        self.fake.faults = Faults(timeout_seconds=0.3, late_commit_seconds=0.5)
        settings.FORTNOX_API_URL = self.server.api_url
        settings.FORTNOX_AUTH_URL = self.server.auth_url
        settings.FORTNOX_TOKEN_URL = self.server.token_url
        settings.FORTNOX_REVOKE_URL = self.server.revoke_url
        settings.FORTNOX_CLIENT_ID = DEFAULT_CLIENT_ID
        settings.FORTNOX_CLIENT_SECRET = DEFAULT_CLIENT_SECRET
        settings.FORTNOX_TIMEOUT = CLIENT_TIMEOUT
        monkeypatch.setattr(
            fortnox_connector,
            "CLIENT_OPTIONS",
            {"backoff_base": 0.01, "default_retry_after": 0.2, "timeout": CLIENT_TIMEOUT},
        )
        monkeypatch.setattr(fortnox_connector.FortnoxConnector, "facts", KIT_FACTS)

    def stop(self) -> None:
        self.server.stop()

    # Connections -------------------------------------------------------------------
    def connect(self, connection: Connection, admin: Any) -> Connection:
        """Authorise `connection` through the fake's OAuth endpoints (every connection of
        the kit is to the same Fortnox company)."""
        code = self.fake.issue_code(redirect_uri=callback_url())
        with scope(tenant=connection.tenant_id):
            return authorization_complete(connection=connection, code=code, actor=admin)

    def expire_access_tokens(self) -> None:
        self.fake.expire_access_tokens()

    def token_refreshes(self) -> int:
        return sum(
            1
            for entry in self.fake.requests(method="POST", path_prefix="/oauth-v1/token")
            if entry.status == 200
        )

    # Faults --------------------------------------------------------------------------
    def random_faults(self, rate: float) -> None:
        """`rate` of the API calls fail: 500s, 429s, timeouts (applied, answered late) and
        lost answers of writes (applied, connection dropped)."""
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
            "late_commit", count=1, method="POST", path_prefix=f"/3/{CREATE_PATHS[entity_type]}"
        )

    def late_commits(self) -> int:
        return sum(1 for entry in self.fake.requests() if entry.fault == "late_commit")

    def faults_seen(self) -> Counter:
        return Counter(entry.fault for entry in self.fake.requests() if entry.fault)

    def unlicense(self, entity_type: str) -> None:
        self.fake.unlicense(self.facts.entity(entity_type).scope)

    def license(self, entity_type: str) -> None:
        self.fake.license(self.facts.entity(entity_type).scope)

    # The remote side -----------------------------------------------------------------
    def remote_markers(self, entity_type: str) -> Counter:
        """The marker of every remote record of `entity_type`, counted."""
        marker = self.facts.entity(entity_type).marker
        records = self.fake.company().records[CREATE_PATHS[entity_type]]
        return Counter(str(record.get(marker)) for record in records.values())

    def writes(self) -> int:
        return sum(1 for entry in self.fake.requests() if entry.is_write)

    def max_in_window(self) -> int:
        return self.fake.max_in_window()

    def refused_for_rate(self) -> int:
        """429s the fake answered because the limit was exceeded (not injected ones)."""
        return sum(1 for entry in self.fake.requests() if entry.status == 429 and not entry.fault)
