"""What can go wrong when talking to another system, as the sync engine needs to know it.

Every connector's client raises these (and only these) for remote failures, so the engine
and the tasks decide the same way for every system:

- `TemporaryError`: worth trying again later (timeouts, 5xx, connection resets) once the
  client's own retries are used up. The record fails for this run and is retried next run.
- `RateLimited`: the remote API said 429; `retry_after` seconds (None: unknown). A
  `TemporaryError`.
- `AmbiguousWrite`: a write whose outcome is unknown (timed out or 5xx after the request was
  sent): the remote object may exist. The engine looks it up by its number/code before
  creating it again (RELIABILITY.md "Calls to other systems"). A `TemporaryError`.
- `PermanentError` (alias `RemoteError`): the remote system refused the request (4xx
  validation, unknown field, missing licence); trying again unchanged will fail again. The
  message is shown to the tenant in the transfer log.
- `PermissionMissing`: the remote system refused one entity type for a missing scope,
  licence or module (Fortnox: HTTP 403, code 2001101). The engine blocks that entity type
  and the run goes on with the others. A `PermanentError`.
- `AuthorizationError`: the credentials are missing, expired or revoked; the connection needs
  to be connected again. A `PermanentError`.
"""

from __future__ import annotations


class IntegrationError(Exception):
    """Base of every integration error; `str(error)` is meant for the tenant's log."""


class TemporaryError(IntegrationError):
    pass


class RateLimited(TemporaryError):
    def __init__(self, message: str = "Rate limited", *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class AmbiguousWrite(TemporaryError):
    pass


class PermanentError(IntegrationError):
    def __init__(self, message: str, *, code: str | int | None = None):
        super().__init__(message)
        self.code = code


RemoteError = PermanentError


class AuthorizationError(PermanentError):
    pass


class PermissionMissing(PermanentError):
    """A scope, licence or module the connection lacks for one entity type."""

    def __init__(self, message: str, *, code: str | int | None = None, scope: str = ""):
        super().__init__(message, code=code)
        self.scope = scope
