"""The fake Fortnox as a real HTTP server on a local port (threaded, HTTP/1.1 keep-alive)."""

from __future__ import annotations

from integrations.fakes import FakeServer
from integrations.fortnox.fake.app import FortnoxFake


class FakeFortnoxServer(FakeServer):
    """``with FakeFortnoxServer(seed=1) as server: server.api_url ...`` — port 0 picks a
    free port. ``server.fake`` is the ``FortnoxFake`` (state, faults, request log)."""

    fake: FortnoxFake

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **fake_options) -> None:
        super().__init__(
            lambda url: FortnoxFake(base_url=url, **fake_options), host=host, port=port
        )

    @property
    def api_url(self) -> str:
        return f"{self.url}/3/"

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth-v1/token"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/oauth-v1/auth"

    @property
    def revoke_url(self) -> str:
        return f"{self.url}/oauth-v1/revoke"
