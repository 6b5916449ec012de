"""The fake Visma.net ERP as a real HTTP server on a local port."""

from __future__ import annotations

from integrations.fakes import FakeHttpServer
from integrations.vismanet.fake.app import VismaNetFake


class FakeVismaNetServer(FakeHttpServer):
    """``with FakeVismaNetServer(seed=1) as server: server.api_url …``; ``server.fake`` is
    the ``VismaNetFake``. The API is under ``/v1/``, Visma Connect under ``/connect/``."""

    fake: VismaNetFake

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **fake_options) -> None:
        super().__init__(VismaNetFake, host=host, port=port, **fake_options)

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1/"

    @property
    def connect_url(self) -> str:
        return self.url
