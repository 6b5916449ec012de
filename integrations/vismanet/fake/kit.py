"""The conformance kit's handle on the fake Visma.net ERP (tests/integrations/conformance/).

Test support: nothing in a sync imports it.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import Counter
from typing import Any

from django.conf import settings as django_settings
from django_scopes import scope

from integrations.facts import RateLimit, SystemFacts
from integrations.fakes import Faults
from integrations.models import Connection
from integrations.oauth import authorization_complete, callback_url
from integrations.ratelimit import RedisAdvertisedLimiter
from integrations.vismanet import connector as vismanet_connector
from integrations.vismanet.facts import VISMANET_FACTS
from integrations.vismanet.fake.app import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_COMPANY
from integrations.vismanet.fake.server import FakeVismaNetServer

# The client gives up after 0.2 s; late commits land after 0.5 s, timeouts answer after
# 0.3 s. The fake's window is short so that the kit meets it: 40 requests per 2 s.
CLIENT_TIMEOUT = 0.2
RATE_LIMIT = 40
RATE_WINDOW = 2.0
KIT_FACTS = dataclasses.replace(
    VISMANET_FACTS.with_lookup(
        delays=(0.01, 0.02), absent_needed=2, settle=datetime.timedelta(seconds=1)
    ),
    rate_limit=RateLimit(RATE_LIMIT, RATE_WINDOW),
)
CREATE_PATHS = {
    "customer": "customer",
    "product": "inventory",
    "project": "project",
    "invoice": "customerinvoice",
}


class VismaNetKit:
    system = "visma_net"
    facts: SystemFacts = KIT_FACTS
    create_kinds = tuple(CREATE_PATHS)
    settle_seconds = 1.0

    def start(self, settings: Any, monkeypatch: Any) -> None:
        self.server = FakeVismaNetServer(seed=5, rate_limit=RATE_LIMIT, rate_window=RATE_WINDOW)
        self.server.start()
        self.fake = self.server.fake
        self.fake.faults = Faults(timeout_seconds=0.3, late_commit_seconds=0.5)
        settings.VISMANET_API_URL = self.server.api_url
        settings.VISMANET_CONNECT_URL = self.server.connect_url
        settings.VISMANET_CLIENT_ID = DEFAULT_CLIENT_ID
        settings.VISMANET_CLIENT_SECRET = DEFAULT_CLIENT_SECRET
        settings.VISMANET_TIMEOUT = CLIENT_TIMEOUT
        monkeypatch.setattr(
            vismanet_connector,
            "CLIENT_OPTIONS",
            {"backoff_base": 0.01, "default_retry_after": 0.2, "timeout": CLIENT_TIMEOUT},
        )
        monkeypatch.setattr(vismanet_connector.VismaNetConnector, "facts", KIT_FACTS)
        if django_settings.REDIS_URL:
            # A window the limiter learnt from an earlier fake is not this one's.
            RedisAdvertisedLimiter(f"vismanet:{DEFAULT_CLIENT_ID}:{DEFAULT_COMPANY}").reset()

    def stop(self) -> None:
        self.server.stop()

    # Connections -------------------------------------------------------------------
    def connect(self, connection: Connection, admin: Any) -> Connection:
        """Authorise `connection` (interactive, the company picked at sign-in); every
        connection of the kit is to the same Visma.net company."""
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
            "late_commit", count=1, method="POST", path_prefix=f"/v1/{CREATE_PATHS[entity_type]}"
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
        marker = self.facts.entity(entity_type).marker
        records = self.fake.company().records[CREATE_PATHS[entity_type]]
        return Counter(str(record.get(marker)) for record in records.values())

    def writes(self) -> int:
        return sum(1 for entry in self.fake.requests() if entry.is_write)

    def max_in_window(self) -> int:
        return self.fake.max_in_window()

    def refused_for_rate(self) -> int:
        return sum(1 for entry in self.fake.requests() if entry.status == 429 and not entry.fault)
