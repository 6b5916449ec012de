"""The errors of the Fortnox client (see integrations/fortnox/client.py for when each is
raised) and how Fortnox's error answers are read.

Each is also one of the sync engine's errors (integrations/errors.py), so the engine and
the tasks decide the same way as for every other system: ``TemporaryError``/``RateLimited``
are the engine's temporary errors, ``AmbiguousWrite`` the engine's ``AmbiguousWrite``
(look up before creating again), ``Unauthorized``/``AuthorizationError`` the engine's
``AuthorizationError`` (connect again), and every other refusal (``Refused``, ``NotFound``)
a ``PermanentError``."""

from __future__ import annotations

import json
from decimal import Decimal

from integrations import errors as engine
from integrations.http import never_sent  # noqa: F401 (re-exported for the client)


class FortnoxError(engine.IntegrationError):
    temporary = False

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    def __str__(self) -> str:
        details = ", ".join(
            part
            for part in (
                f"HTTP {self.status}" if self.status else "",
                f"code {self.code}" if self.code else "",
            )
            if part
        )
        return f"{self.message} ({details})" if details else self.message


class Refused(FortnoxError, engine.PermanentError):
    """Fortnox refused the request (4xx): sending it again unchanged fails again."""


class NotFound(Refused):
    pass


# ErrorInformation codes that name a missing scope, licence or module:
# no active licence for the scope, API licence missing, no permission for a register.
PERMISSION_CODES = frozenset({2001101, 2001103, 2003275})


class PermissionMissing(Refused, engine.PermissionMissing):
    """Fortnox refused a resource for a missing scope, licence or module (403, or a 401
    whose code names one): the engine blocks that entity type, the run goes on."""

    def __init__(
        self, message: str, *, status: int | None = None, code: int | None = None, scope: str = ""
    ):
        Refused.__init__(self, message, status=status, code=code)
        self.scope = scope


def is_permission_refusal(status: int, code: int | None) -> bool:
    return status == 403 or (status == 401 and code in PERMISSION_CODES)


class Unauthorized(FortnoxError, engine.AuthorizationError):
    """The access token is missing, wrong or expired (and could not be refreshed)."""


class AuthorizationError(FortnoxError, engine.AuthorizationError):
    """The OAuth endpoint refused: ``error`` is RFC 6749's code, e.g. invalid_grant."""

    def __init__(self, message: str, *, status: int | None = None, error: str = ""):
        super().__init__(message, status=status)
        self.error = error


class TemporaryError(FortnoxError, engine.TemporaryError):
    """5xx, timeout or connection error: a later attempt may succeed."""

    temporary = True


class RateLimited(TemporaryError, engine.RateLimited):
    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message, status=429)
        self.retry_after = retry_after


class AmbiguousWrite(FortnoxError, engine.AmbiguousWrite):
    """A write may or may not have happened: look the record up before writing again."""

    temporary = True

    def __init__(self, message: str, *, method: str, path: str, status: int | None = None):
        super().__init__(message, status=status)
        self.method = method
        self.path = path


def error_information(content: bytes) -> tuple[str, int | None]:
    """Message and code of an ``ErrorInformation`` body, whatever the key casing."""
    try:
        document = json.loads(content, parse_float=Decimal)
    except ValueError:
        return content.decode("utf-8", "replace")[:200] or "no message", None
    info = document.get("ErrorInformation") if isinstance(document, dict) else None
    if not isinstance(info, dict):
        return str(document)[:200], None
    lowered = {str(key).lower(): value for key, value in info.items()}
    code = lowered.get("code")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    return str(lowered.get("message") or "no message"), code
