"""What every record write shares: the field checks that collect one message list per field, and
the save that turns a lost uniqueness race into a message."""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator, validate_email
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from accounts.audit import Actor, AuditAction, audit_record
from accounts.models import Tenant, User
from severa.identifiers import IdentifierError

Record = TypeVar("Record", bound=models.Model)
Data = Mapping[str, Any]
Errors = dict[str, list[str]]
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")

# Who writes when no person does (an integration's sync): named in the audit.
_acting_party: contextvars.ContextVar[str] = contextvars.ContextVar("acting_party", default="")


@contextlib.contextmanager
def acting_party(name: str) -> Iterator[None]:
    """Record writes inside are audited as done by `name` (e.g. "integration:fortnox:12")
    when no user is given."""
    token = _acting_party.set(name)
    try:
        yield
    finally:
        _acting_party.reset(token)


# Field checks ----------------------------------------------------------------------------


class Checker:
    """Collects one message list per field; ``done()`` raises them all at once."""

    def __init__(self, tenant: Tenant, instance: models.Model | None, data: Data) -> None:
        self.tenant = tenant
        self.instance = instance
        self.data = data
        self.errors: Errors = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raw(self, name: str, default: Any = None) -> Any:
        if name in self.data:
            return self.data[name]
        if self.instance is not None:
            return getattr(self.instance, name)
        return default

    def text(
        self,
        model: type[models.Model],
        name: str,
        *,
        required: str = "",
        multiline: bool = False,
    ) -> str:
        """A text field, trimmed (inner whitespace collapsed unless multiline); ``required``
        is the message for a missing value."""
        value = self.raw(name, "")
        value = "" if value is None else str(value)
        value = value.strip() if multiline else " ".join(value.split())
        if not value and required:
            self.add(name, required)
        limit = model._meta.get_field(name).max_length
        if limit is not None and len(value) > limit:
            self.add(name, _("At most %(limit)d characters, please.") % {"limit": limit})
        return value

    def email(self, model: type[models.Model], name: str = "email") -> str:
        value = self.text(model, name).lower()
        if value:
            try:
                validate_email(value)
            except ValidationError:
                self.add(name, _("%(value)s is not an e-mail address.") % {"value": value})
        return value

    def choice(self, name: str, choices: type[models.TextChoices], default: str) -> str:
        value = self.raw(name, default)
        if value not in choices.values:
            self.add(
                name,
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices.values)},
            )
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            self.add(name, _("Give true or false."))
            return default
        return value

    def decimal(
        self,
        model: type[models.Model],
        name: str,
        *,
        default: Decimal | None = None,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        required: str = "",
    ) -> Decimal | None:
        value = self.raw(name, default)
        if value is None or value == "":
            if required:
                self.add(name, required)
            return None
        if isinstance(value, float | bool):  # money never goes through a float
            self.add(name, _("Give a decimal number."))
            return None
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            self.add(name, _("%(value)s is not a number.") % {"value": value})
            return None
        if not number.is_finite():
            self.add(name, _("%(value)s is not a number.") % {"value": value})
            return None
        field = model._meta.get_field(name)
        try:
            DecimalValidator(field.max_digits, field.decimal_places)(number)
        except ValidationError as error:
            for message in error.messages:
                self.add(name, message)
            return None
        if minimum is not None and number < minimum:
            self.add(name, _("At least %(minimum)s, please.") % {"minimum": minimum})
        if maximum is not None and number > maximum:
            self.add(name, _("At most %(maximum)s, please.") % {"maximum": maximum})
        return number

    def day(self, name: str, *, required: str = "") -> date | None:
        value = self.raw(name)
        if value is None or value == "":
            if required:
                self.add(name, required)
            return None
        if not isinstance(value, date):
            self.add(name, _("Give a date."))
            return None
        return value

    def owned(
        self,
        name: str,
        model: type[Record],
        *,
        required: str = "",
    ) -> Record | None:
        """A record this one points at: of the same tenant, or refused."""
        value = self.raw(name)
        if value is None:
            if required:
                self.add(name, required)
            return None
        if not isinstance(value, model) or value.tenant_id != self.tenant.pk:  # type: ignore[attr-defined]
            self.add(name, _("No such %(record)s.") % {"record": model._meta.verbose_name})
            return None
        return value

    def unique(self, model: type[models.Model], name: str, value: str, message: str) -> None:
        """Refuse a value another row of the tenant has (blank values are not compared)."""
        if not value or name in self.errors:
            return
        rows = model.objects.filter(tenant=self.tenant, **{name: value})
        if self.instance is not None:
            rows = rows.exclude(pk=self.instance.pk)
        if rows.exists():
            self.add(name, message % {"value": value})

    def done(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def identifier_check(check: Checker, name: str, clean: Callable[[str], str], value: str) -> str:
    try:
        return clean(value)
    except IdentifierError as error:
        check.add(name, error.message)
        return value


def country_check(check: Checker, name: str, value: str) -> str:
    value = (value or "").strip().upper()
    if not COUNTRY_CODE.match(value):
        check.add(name, _("Give the country as a two-letter ISO code, e.g. FI."))
    return value


def nested_errors(check: Checker, name: str, index: int, errors: Errors) -> None:
    for field, messages in errors.items():
        for message in messages:
            check.add(f"{name}[{index}].{field}", message)


def record_save(
    model: type[Record],
    *,
    tenant: Tenant,
    instance: Record | None,
    values: dict[str, Any],
    actor: User | None,
    label: str,
) -> Record:
    """Create or update one row; a unique constraint hit in a race becomes a message."""
    if instance is None:
        instance = model(tenant=tenant, **values)
        action = "created"
    else:
        for name, value in values.items():
            setattr(instance, name, value)
        action = "updated"
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationError(
            _("Another %(record)s with the same number or code was just saved.")
            % {"record": model._meta.verbose_name}
        ) from None
    party = _acting_party.get()
    if actor is not None or party:
        # People's edits are audited, and so are a sync's, with its connection as the party.
        audit_record(
            actor=actor if actor is not None else Actor.connection(party),
            action=AuditAction(f"records.{model._meta.model_name}.{action}"),
            tenant=tenant,
            subject_ref=(model._meta.label_lower, instance.pk, label),
            details={"record": label, "record_id": instance.pk},
        )
    return instance


def tenant_of(instance: Any) -> Tenant:
    return Tenant.objects.get(pk=instance.tenant_id)
