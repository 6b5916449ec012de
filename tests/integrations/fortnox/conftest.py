import pytest

from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.fake import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FakeFortnoxServer,
)


@pytest.fixture
def fortnox_server():
    with FakeFortnoxServer(seed=7) as server:
        yield server


@pytest.fixture
def fake(fortnox_server):
    return fortnox_server.fake


@pytest.fixture
def fortnox_settings(settings, fortnox_server):
    settings.FORTNOX_API_URL = fortnox_server.api_url
    settings.FORTNOX_AUTH_URL = fortnox_server.auth_url
    settings.FORTNOX_TOKEN_URL = fortnox_server.token_url
    settings.FORTNOX_REVOKE_URL = fortnox_server.revoke_url
    settings.FORTNOX_CLIENT_ID = DEFAULT_CLIENT_ID
    settings.FORTNOX_CLIENT_SECRET = DEFAULT_CLIENT_SECRET
    settings.FORTNOX_TIMEOUT = 2.0
    return settings


@pytest.fixture
def access_token(fake):
    return fake.issue_token()["access_token"]


@pytest.fixture
def client(fortnox_settings, access_token):
    """A client with short pauses, so that retries do not slow the tests down."""
    return FortnoxClient(access_token, backoff_base=0.01, default_retry_after=0.1)
