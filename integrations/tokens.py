"""A connection's OAuth tokens: stored encrypted, refreshed before they expire.

Refresh tokens rotate (Fortnox: each refresh returns a new refresh token and the old one
stops working), so two workers must never refresh the same connection at once: the refresh
happens under the connection's row lock, and the second worker, once it gets the lock, finds
the fresh token and uses it. The new pair is written in the same transaction as the lock.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from integrations.connections import connection_status_move
from integrations.connectors import Tokens, connector_for
from integrations.encryption import field_decrypt, field_encrypt
from integrations.errors import AuthorizationError, PermanentError
from integrations.models import AuthKind, Connection, ConnectionStatus
from severa import clock

# Refresh when less than this is left of the access token's life.
REFRESH_MARGIN = timedelta(minutes=5)
AUTHORIZATION_EXPIRED = "The authorisation has expired or was revoked: connect again."


def tokens_store(*, connection: Connection, tokens: Tokens, auth_kind: str | None = None) -> None:
    """Write `tokens` (encrypted) on `connection`; the caller saves it or holds its lock."""
    connection.access_token_encrypted = field_encrypt(tokens.access_token)
    connection.refresh_token_encrypted = field_encrypt(tokens.refresh_token)
    connection.token_expires_at = tokens.expires_at
    connection.token_scope = tokens.scope[:500]
    if auth_kind:
        connection.auth_kind = auth_kind
    connection.updated_at = clock.now()
    connection.save(
        update_fields=[
            "access_token_encrypted",
            "refresh_token_encrypted",
            "token_expires_at",
            "token_scope",
            "auth_kind",
            "updated_at",
        ]
    )


def tokens_wipe(*, connection: Connection) -> None:
    connection.access_token_encrypted = ""
    connection.refresh_token_encrypted = ""
    connection.token_expires_at = None
    connection.token_scope = ""
    connection.updated_at = clock.now()
    connection.save(
        update_fields=[
            "access_token_encrypted",
            "refresh_token_encrypted",
            "token_expires_at",
            "token_scope",
            "updated_at",
        ]
    )


def refresh_token_of(*, connection: Connection) -> str:
    return field_decrypt(connection.refresh_token_encrypted)


def _fresh(connection: Connection) -> bool:
    expires_at = connection.token_expires_at
    return bool(connection.access_token_encrypted) and (
        expires_at is not None and expires_at - clock.now() > REFRESH_MARGIN
    )


def access_token_for(*, connection: Connection, force_refresh: bool = False) -> str:
    """A usable access token for `connection`, refreshed first when less than five minutes
    of it are left. Raises AuthorizationError when there is none and none can be had (the
    connection is then paused with the reason); TemporaryError when the token endpoint
    could not be reached (nothing changed).

    `force_refresh`: the remote system refused the token `connection` holds (a 401): refresh
    it whatever its expiry says, unless another worker has replaced it meanwhile."""
    seen = connection.access_token_encrypted
    if not force_refresh and _fresh(connection):
        return field_decrypt(connection.access_token_encrypted)
    failure: PermanentError | None = None
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        refused = force_refresh and locked.access_token_encrypted == seen
        if refused or not _fresh(locked):
            if not locked.access_token_encrypted:
                raise AuthorizationError(AUTHORIZATION_EXPIRED)
            connector = connector_for(locked.system)
            try:
                if locked.auth_kind == AuthKind.CLIENT_CREDENTIALS:
                    tokens = connector.client_credentials(locked.remote_tenant_id)
                else:
                    tokens = connector.refresh(refresh_token_of(connection=locked))
            except PermanentError as error:
                # The refresh token is dead (expired after 45 days unused, or revoked): no
                # run can work until an administrator connects again. Committed before the
                # error is raised.
                failure = error
                if locked.status == ConnectionStatus.ACTIVE:
                    connection_status_move(
                        connection=locked,
                        to=ConnectionStatus.PAUSED,
                        actor=None,
                        reason=AUTHORIZATION_EXPIRED,
                    )
                tokens_wipe(connection=locked)
            else:
                tokens_store(connection=locked, tokens=tokens)
    if failure is not None:
        connection.refresh_from_db()
        raise AuthorizationError(f"{AUTHORIZATION_EXPIRED} ({failure})") from failure
    connection.refresh_from_db()
    return field_decrypt(connection.access_token_encrypted)
