"""The fake eEkonomi as a real HTTP server on a local port."""

from __future__ import annotations

from integrations.eaccounting.fake.app import EAccountingFake
from integrations.fakes import FakeHttpServer


class FakeEAccountingServer(FakeHttpServer):
    """``with FakeEAccountingServer(seed=1) as server: server.api_url ...``; ``server.fake``
    is the ``EAccountingFake`` (state, faults, request log, test hooks)."""

    fake: EAccountingFake

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **fake_options) -> None:
        super().__init__(EAccountingFake, host=host, port=port, **fake_options)

    @property
    def api_url(self) -> str:
        return f"{self.url}/v2/"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/connect/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.url}/connect/token"

    @property
    def revoke_url(self) -> str:
        return f"{self.url}/connect/revocation"
