"""Credentials: encrypted at rest, refreshed under a lock with the rotated refresh token
stored, the authorization-code flow with its state check, client credentials, disconnect."""

import datetime
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from integrations import encryption
from integrations.errors import AuthorizationError
from integrations.models import AuthKind, Connection, ConnectionStatus, SyncRun
from integrations.oauth import SESSION_KEY
from integrations.tokens import access_token_for, refresh_token_of
from severa import clock
from tests.integrations.memory import MemoryConnector

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)


def reload(connection: Connection) -> Connection:
    with scopes_disabled():
        return Connection.objects.get(pk=connection.pk)


def test_tokens_are_encrypted_at_rest(active_connection):
    stored = reload(active_connection)
    assert stored.access_token_encrypted
    assert "service-T-1" not in stored.access_token_encrypted
    assert "service-T-1" not in stored.refresh_token_encrypted
    assert encryption.field_decrypt(stored.access_token_encrypted).startswith("service-T-1-access-")


def test_a_field_key_set_later_still_reads_values_written_under_secret_key(settings):
    settings.SEVERA_FIELD_KEY = ""
    old = encryption.field_encrypt("refresh-1")
    settings.SEVERA_FIELD_KEY = "a-separate-field-key"
    new = encryption.field_encrypt("refresh-2")
    assert encryption.field_decrypt(old) == "refresh-1"
    assert encryption.field_decrypt(new) == "refresh-2"
    settings.SEVERA_FIELD_KEY = "another-key"
    settings.SECRET_KEY = "rotated-secret"
    with pytest.raises(encryption.DecryptionError):
        encryption.field_decrypt(new)


def _set_tokens(connection, *, expires_in: datetime.timedelta, refresh: str = "rotating-1"):
    with scopes_disabled():
        Connection.objects.filter(pk=connection.pk).update(
            auth_kind=AuthKind.AUTHORIZATION_CODE,
            access_token_encrypted=encryption.field_encrypt("old-access"),
            refresh_token_encrypted=encryption.field_encrypt(refresh),
            token_expires_at=NOW + expires_in,
        )


def test_a_token_with_more_than_five_minutes_left_is_used_as_it_is(active_connection):
    _set_tokens(active_connection, expires_in=datetime.timedelta(minutes=6))
    MemoryConnector.calls.clear()
    with clock.frozen(NOW), scope(tenant=active_connection.tenant_id):
        assert access_token_for(connection=reload(active_connection)) == "old-access"
    assert MemoryConnector.calls == []


def test_a_token_about_to_expire_is_refreshed_and_the_rotated_refresh_token_stored(
    active_connection,
):
    _set_tokens(active_connection, expires_in=datetime.timedelta(minutes=4))
    MemoryConnector.calls.clear()
    with clock.frozen(NOW), scope(tenant=active_connection.tenant_id):
        token = access_token_for(connection=reload(active_connection))
        stored = reload(active_connection)
        assert token.startswith("refreshed-access-")
        assert MemoryConnector.calls == [("refresh", "rotating-1")]
        assert refresh_token_of(connection=stored).startswith("refreshed-refresh-")
        assert stored.token_expires_at == NOW + datetime.timedelta(hours=1)
        # The fresh token is used from now on, without another refresh.
        assert access_token_for(connection=stored) == token
    assert len(MemoryConnector.calls) == 1


def test_a_dead_refresh_token_pauses_the_connection_and_wipes_the_tokens(active_connection):
    _set_tokens(active_connection, expires_in=datetime.timedelta(0), refresh="dead-1")
    with (
        clock.frozen(NOW),
        scope(tenant=active_connection.tenant_id),
        pytest.raises(AuthorizationError),
    ):
        access_token_for(connection=reload(active_connection))
    stored = reload(active_connection)
    assert stored.status == ConnectionStatus.PAUSED
    assert "connect again" in stored.status_reason
    assert stored.access_token_encrypted == stored.refresh_token_encrypted == ""


def test_client_credentials_are_fetched_again_instead_of_refreshed(active_connection):
    with scopes_disabled():
        Connection.objects.filter(pk=active_connection.pk).update(token_expires_at=NOW)
    MemoryConnector.calls.clear()
    with clock.frozen(NOW), scope(tenant=active_connection.tenant_id):
        token = access_token_for(connection=reload(active_connection))
    assert MemoryConnector.calls == [("client_credentials", "T-1")]
    assert token.startswith("service-T-1-access-")


# The web flow ------------------------------------------------------------------------------


def _connect(client, connection):
    return client.post(
        reverse(
            "tenant_integration_connect",
            kwargs={"tenant_id": connection.tenant_id, "connection_id": connection.pk},
        )
    )


def test_connect_sends_the_admin_to_the_system_and_the_callback_activates(
    verified_client, tenant_admin, connection, world, django_capture_on_commit_callbacks
):
    client = verified_client(tenant_admin)
    response = _connect(client, connection)
    assert response.status_code == 302
    url = urlparse(response["Location"])
    assert url.netloc == "accounts.example.test"
    query = parse_qs(url.query)
    state = query["state"][0]
    assert client.session[SESSION_KEY] == state
    assert query["redirect_uri"][0].endswith("/integrations/oauth/callback/")

    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=False):
        response = client.get(
            reverse("integrations_oauth_callback"), {"state": state, "code": "good-code"}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "tenant_integration",
        kwargs={"tenant_id": connection.tenant_id, "connection_id": connection.pk},
    )
    stored = reload(connection)
    assert stored.status == ConnectionStatus.ACTIVE
    assert stored.auth_kind == AuthKind.AUTHORIZATION_CODE
    assert stored.authorized_by == tenant_admin
    assert encryption.field_decrypt(stored.access_token_encrypted).startswith("code-access-")
    assert SESSION_KEY not in client.session
    with scopes_disabled():
        assert SyncRun.objects.filter(connection=connection).count() == 1

    # The state works once.
    again = client.get(reverse("integrations_oauth_callback"), {"state": state, "code": "x"})
    assert again.status_code == 400


@pytest.mark.parametrize("tamper", ["other", "missing", "no-session"])
def test_a_callback_whose_state_does_not_match_changes_nothing(
    verified_client, tenant_admin, connection, world, tamper
):
    client = verified_client(tenant_admin)
    state = parse_qs(urlparse(_connect(client, connection)["Location"]).query)["state"][0]
    if tamper == "no-session":
        session = client.session
        del session[SESSION_KEY]
        session.save()
    sent = {"other": state[:-2] + "xx", "missing": "", "no-session": state}[tamper]
    MemoryConnector.calls.clear()

    response = client.get(
        reverse("integrations_oauth_callback"), {"state": sent, "code": "good-code"}
    )

    assert response.status_code == 400
    assert "Nothing was changed" in response.content.decode()
    assert MemoryConnector.calls == []  # the code was never exchanged
    stored = reload(connection)
    assert stored.status == ConnectionStatus.DRAFT
    assert stored.access_token_encrypted == ""


def test_a_refused_code_leaves_the_connection_as_it_was(
    verified_client, tenant_admin, connection, world
):
    client = verified_client(tenant_admin)
    state = parse_qs(urlparse(_connect(client, connection)["Location"]).query)["state"][0]
    response = client.get(
        reverse("integrations_oauth_callback"), {"state": state, "code": "expired"}, follow=True
    )
    assert "The authorisation failed" in response.content.decode()
    assert reload(connection).status == ConnectionStatus.DRAFT


def test_connect_is_refused_without_the_invoice_statuses(
    verified_client, tenant_admin, connection, world
):
    with scopes_disabled():
        Connection.objects.filter(pk=connection.pk).update(send_status_id=None)
    client = verified_client(tenant_admin)
    response = _connect(client, connection)
    assert response.status_code == 302
    assert "accounts.example.test" not in response["Location"]
    assert SESSION_KEY not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "Choose the invoice status that sends an invoice." in page


def test_disconnect_revokes_the_refresh_token_and_wipes_the_tokens(
    verified_client, tenant_admin, active_connection, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        refresh = refresh_token_of(connection=reload(active_connection))
    MemoryConnector.calls.clear()
    client = verified_client(tenant_admin)
    url = reverse(
        "tenant_integration_disconnect",
        kwargs={"tenant_id": active_connection.tenant_id, "connection_id": active_connection.pk},
    )
    # The button only asks: what disconnecting does and from when; nothing is revoked yet.
    asked = client.post(url)
    assert "Disconnect Fortnox?" in asked.content.decode()
    assert "nothing is transferred between Severa and Fortnox" in asked.content.decode()
    assert MemoryConnector.calls == []
    assert reload(active_connection).status == ConnectionStatus.ACTIVE
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    assert MemoryConnector.calls == [("revoke", refresh)]
    stored = reload(active_connection)
    assert stored.status == ConnectionStatus.DISCONNECTED
    assert (stored.access_token_encrypted, stored.refresh_token_encrypted) == ("", "")
    assert [m.to for m in mail.outbox] == [[tenant_admin.email]]
    assert "revoked and deleted" in mail.outbox[0].body


def test_the_management_command_authorises_a_service_account(connection, world):
    call_command(
        "integration_authorize",
        tenant=connection.tenant_id,
        system="fortnox",
        remote_tenant_id="SA-9",
    )
    stored = reload(connection)
    assert stored.status == ConnectionStatus.ACTIVE
    assert stored.auth_kind == AuthKind.CLIENT_CREDENTIALS
    assert stored.remote_tenant_id == "SA-9"


def test_a_refused_token_is_refreshed_once_whatever_its_expiry(active_connection):
    _set_tokens(active_connection, expires_in=datetime.timedelta(minutes=50))
    MemoryConnector.calls.clear()
    with clock.frozen(NOW), scope(tenant=active_connection.tenant_id):
        held, held_elsewhere = reload(active_connection), reload(active_connection)
        token = access_token_for(connection=held, force_refresh=True)
        assert token.startswith("refreshed-access-")
        # A second worker that also held the refused token gets the new one, no refresh.
        assert access_token_for(connection=held_elsewhere, force_refresh=True) == token
    assert [call[0] for call in MemoryConnector.calls] == ["refresh"]
