"""Refusals of the domain: one base class, its translatable messages, and how pages and the
API show them.

A service refuses by raising a subclass of ``DomainError`` with a stable machine ``code``
and the values its message names::

    raise QuoteError("storage_not_sold", storage_gb=60, edition="Business")

Each class lists its messages once, in ``messages`` (code → template, marked with
``gettext_lazy``, or ``ngettext_lazy`` keyed on ``count`` where a number is shown). The
message is rendered when it is read (``str(error)``, ``error.message``), so the language
active where it is shown wins, not the one active where it was raised. Pages show it with
``refusal_show`` / ``refusal_on_form``; the API answers it in api/errors.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib import messages
from django.http import HttpRequest
from django.utils.functional import Promise, lazy


class DomainError(Exception):
    """A refusal of the domain: nothing was changed, and ``str(error)`` says why in the
    active language.

    ``api_status`` and ``api_code`` are how the API answers the class (``api_codes``
    overrides the answered code for some of its refusals); ``code`` and ``params`` name the
    refusal itself."""

    messages: ClassVar[Mapping[str, Promise | str]] = {}
    api_status: ClassVar[int] = 422
    api_code: ClassVar[str] = "refused"
    api_codes: ClassVar[Mapping[str, str]] = {}

    def __init__(self, code: str, /, **params: Any) -> None:
        if code not in self.messages:
            raise KeyError(f"{type(self).__name__} has no message {code!r}")
        self.code = code
        self.params = params
        super().__init__(code, params)

    def __reduce__(self):  # pickled by Celery and the test runner's workers
        return _rebuild, (type(self), self.code, self.params)

    @property
    def template(self) -> Promise | str:
        return self.messages[self.code]

    def render(self) -> str:
        """The message in the active language."""
        template = self.template
        if self.params or "%(" in str(template):
            return str(template % self.params)
        return str(template)

    def __str__(self) -> str:
        return self.render()

    @property
    def message(self) -> str:
        """The message as a lazy string: rendered in the language active when it is shown
        (a form error, a ``ValidationError`` raised on)."""
        return _lazy_render(self)

    @property
    def answered_code(self) -> str:
        """The ``code`` of the API's answer."""
        return self.api_codes.get(self.code, self.api_code)

    def api_fields(self) -> dict[str, Any] | None:
        """The form fields the API's answer names (``fields``), for a refusal about one."""
        return None

    def params_json(self) -> dict[str, Any]:
        """``params`` as JSON values: numbers stay numbers, dates are ISO, the rest text."""
        return {name: _json_value(value) for name, value in self.params.items()}


def _rebuild(cls: type[DomainError], code: str, params: dict[str, Any]) -> DomainError:
    return cls(code, **params)


_lazy_render = lazy(DomainError.render, str)


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_value(item) for item in value]
    return str(value)


def domain_errors() -> list[type[DomainError]]:
    """Every subclass of ``DomainError`` (of the imported modules), most general first."""
    found: list[type[DomainError]] = []
    pending = [DomainError]
    while pending:
        cls = pending.pop(0)
        for sub in cls.__subclasses__():
            if sub not in found:
                found.append(sub)
                pending.append(sub)
    return found


# Pages: one way to show a refusal.


def refusal_show(request: HttpRequest, error: DomainError) -> None:
    """Show a refusal on the next page the user sees, in the request's language."""
    messages.error(request, error.message)


def refusal_on_form(form: Any, error: DomainError) -> None:
    """Show a refusal at the top of a form (its non-field errors)."""
    form.add_error(None, error.message)
