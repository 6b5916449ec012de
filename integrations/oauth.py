"""Authorising a connection: the OAuth2 authorization-code flow for an administrator of the
accounting system, client credentials for a service account, and disconnecting.

The authorization-code flow (RFC 6749 §4.1, with `state` against CSRF, §10.12):

1. `authorization_start` checks that the connection may be activated, makes a random state
   bound to the tenant and the connection (signed, valid 10 minutes: the authorization code
   lives as long), keeps it in the user's session and returns the system's authorize URL.
2. The system sends the browser back to the one registered callback URL with `code` and
   `state`. `authorization_complete` takes the state out of the session (it works once), and
   only if it equals the state received and its signature holds exchanges the code, stores
   the tokens encrypted and activates the connection. Any mismatch changes nothing.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from accounts.audit import AuditAction, audit_record
from accounts.mail import mail_enqueue
from accounts.models import User
from accounts.services import tenant_admin_emails
from integrations.agents import agent_key_revoke
from integrations.connections import connection_activation_errors, connection_status_move
from integrations.connectors import connector_for
from integrations.errors import IntegrationError
from integrations.models import AuthKind, Connection, ConnectionStatus
from integrations.tokens import refresh_token_of, tokens_store, tokens_wipe
from severa import clock

SESSION_KEY = "integrations.oauth_state"
STATE_SALT = "integrations.oauth.state"
STATE_MAX_AGE_SECONDS = 10 * 60


class AuthorizationStateError(Exception):
    """The callback's state is missing, expired or not the one this session started."""


def callback_url() -> str:
    return settings.SITE_URL + reverse("integrations_oauth_callback")


def authorization_start(*, session: SessionBase, connection: Connection) -> str:
    """The URL to send the administrator to; raises ValidationError when the connection
    cannot be activated (nothing is started then)."""
    errors = connection_activation_errors(connection=connection)
    if errors:
        raise ValidationError(errors)
    state = signing.dumps(
        {
            "tenant_id": connection.tenant_id,
            "connection_id": connection.pk,
            "nonce": secrets.token_urlsafe(32),
        },
        salt=STATE_SALT,
    )
    session[SESSION_KEY] = state
    return connector_for(connection.system).authorize_url(state, callback_url())


def authorization_state_check(*, session: SessionBase, state: str) -> tuple[int, int]:
    """(tenant id, connection id) the state was made for; AuthorizationStateError when it is
    not this session's pending state. The pending state is used up either way."""
    expected = session.pop(SESSION_KEY, None)
    if not expected or not state or not constant_time_compare(expected, state):
        raise AuthorizationStateError(
            _(
                "The authorisation could not be verified (it was not started here, or was "
                "started again in another tab). Nothing was changed: connect again."
            )
        )
    try:
        payload = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE_SECONDS)
    except signing.BadSignature:
        raise AuthorizationStateError(
            _("The authorisation took too long. Nothing was changed: connect again.")
        ) from None
    return int(payload["tenant_id"]), int(payload["connection_id"])


def _credentials_notice(connection: Connection, *, action: str, actor: User | None) -> None:
    # A security notice (RELIABILITY.md: tell tenant admins about changed ERP credentials).
    mail_enqueue(
        to=tenant_admin_emails(tenant=connection.tenant),
        template="integration_credentials_notice",
        context={
            "tenant": connection.tenant.name,
            "system": str(connection.get_system_display()),
            "action": action,
            "user": (actor.get_full_name() or actor.username) if actor else "",
        },
        language=connection.tenant.language,
        tenant=connection.tenant,
    )


def _activate(connection: Connection, *, actor: User | None, auth_kind: str) -> None:
    now = clock.now()
    connection.authorized_at = now
    connection.authorized_by = actor
    # The new authorisation may be for another company of the remote system: learnt again.
    connection.remote_company_id = ""
    if connection.activated_at is None:
        connection.activated_at = now
    connection.updated_at = now
    connection.save(
        update_fields=[
            "authorized_at",
            "authorized_by",
            "remote_company_id",
            "activated_at",
            "updated_at",
        ]
    )
    details = {"auth_kind": auth_kind}
    if connection.status == ConnectionStatus.ACTIVE:
        # Authorised again while active: new credentials, no status move.
        audit_record(
            actor=actor,
            action=AuditAction.INTEGRATION_CONNECTED,
            tenant=connection.tenant_id,
            subject=connection,
            details={"system": connection.system, **details},
        )
    else:
        connection_status_move(
            connection=connection,
            to=ConnectionStatus.ACTIVE,
            actor=actor,
            action=AuditAction.INTEGRATION_CONNECTED,
            details=details,
        )
    _credentials_notice(connection, action="connected", actor=actor)


def authorization_complete(*, connection: Connection, code: str, actor: User) -> Connection:
    """Exchange the code and activate `connection` (its state was checked by the caller with
    `authorization_state_check`). Raises ValidationError when activation's checks no longer
    pass, IntegrationError when the exchange fails; nothing is changed then."""
    errors = connection_activation_errors(connection=connection)
    if errors:
        raise ValidationError(errors)
    tokens = connector_for(connection.system).exchange_code(code, callback_url())
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        locked.remote_tenant_id = ""
        tokens_store(connection=locked, tokens=tokens, auth_kind=AuthKind.AUTHORIZATION_CODE)
        _activate(locked, actor=actor, auth_kind=AuthKind.AUTHORIZATION_CODE)
    return locked


def client_credentials_authorize(
    *, connection: Connection, remote_tenant_id: str, actor: User | None
) -> Connection:
    """Authorise `connection` as a service account of the remote tenant `remote_tenant_id`
    (client credentials grant) and activate it."""
    remote_tenant_id = remote_tenant_id.strip()
    if not remote_tenant_id:
        raise ValidationError({"remote_tenant_id": _("Give the tenant id of the service account.")})
    errors = connection_activation_errors(connection=connection)
    if errors:
        raise ValidationError(errors)
    tokens = connector_for(connection.system).client_credentials(remote_tenant_id)
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        locked.remote_tenant_id = remote_tenant_id[:100]
        locked.save(update_fields=["remote_tenant_id"])
        tokens_store(connection=locked, tokens=tokens, auth_kind=AuthKind.CLIENT_CREDENTIALS)
        _activate(locked, actor=actor, auth_kind=AuthKind.CLIENT_CREDENTIALS)
    return locked


def connection_disconnect(*, connection: Connection, actor: User | None) -> str:
    """Revoke the refresh token at the remote system, wipe the stored tokens and revoke an
    agent's key; the connection is disconnected (its settings, entity map and log stay).
    Returns a note for the user when the revocation could not be confirmed (the tokens are
    wiped regardless)."""
    note = ""
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        refresh_token = (
            refresh_token_of(connection=locked) if locked.refresh_token_encrypted else ""
        )
        if refresh_token:
            try:
                connector_for(locked.system).revoke(refresh_token)
            except IntegrationError as error:
                note = _(
                    "The accounting system did not confirm the revocation (%(error)s); the "
                    "stored credentials are deleted anyway."
                ) % {"error": error}
        tokens_wipe(connection=locked)
        # An on-premises agent's key is a credential too: it stops working with the rest.
        agent_key_revoke(connection=locked, actor=actor)
        locked.auth_kind = ""
        locked.remote_tenant_id = ""
        locked.save(update_fields=["auth_kind", "remote_tenant_id"])
        if locked.status != ConnectionStatus.DISCONNECTED:
            connection_status_move(
                connection=locked,
                to=ConnectionStatus.DISCONNECTED,
                actor=actor,
                details={"revoked": not note},
            )
        _credentials_notice(locked, action="disconnected", actor=actor)
    connection.refresh_from_db()
    return note
