"""Refusals of the domain (severa/errors.py): every message exists in Finnish, Swedish and
Norwegian with the same parameters, every raise names a message its class has, and the
message is rendered in the language where it is shown."""

import ast
import pathlib
import re

import pytest
from django.utils import translation

import accounts.outbox
import billing.contacts
import billing.einvoice.delivery
import billing.invoicing
import billing.migration
import billing.rollover
import partners.services.activation
import subscriptions.pricebook
import subscriptions.quotes
import subscriptions.services
from severa.errors import DomainError, domain_errors

REFUSALS = {
    "QuoteError",
    "TooFewSeatsError",
    "QuoteConflictError",
    "ChangeNotCancellableError",
    "LicenceError",
    "InvoicingError",
    "LastBillingContactError",
    "RolloverError",
    "SellerMigrationError",
    "ActivationRateLimited",
    "EInvoiceRetryError",
    "OutboxRetryError",
}
APPS = ("accounts", "api", "billing", "partners", "records", "subscriptions", "severa")
ROOT = pathlib.Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _messages():
    for cls in domain_errors():
        for code, template in cls.messages.items():
            yield pytest.param(cls, code, template, id=f"{cls.__name__}.{code}")


def test_the_refusals_are_domain_errors():
    assert {cls.__name__ for cls in domain_errors()} >= REFUSALS


def _source(template, count: int) -> str:
    """The active language's text of a message, its placeholders unfilled; `count` picks
    the form of a plural message."""
    keyword = getattr(template, "_kw", None)
    if keyword:
        return translation.ngettext(keyword["singular"], keyword["plural"], count)
    return translation.gettext(template._args[0])


@pytest.mark.parametrize(("cls", "code", "template"), list(_messages()))
@pytest.mark.parametrize("language", ["fi", "sv", "nb"])
def test_every_refusal_is_translated_with_the_same_parameters(cls, code, template, language):
    for count in (1, 2):
        with translation.override("en"):
            english = _source(template, count)
        with translation.override(language):
            translated = _source(template, count)
        assert translated != english, f"{cls.__name__}.{code} is not translated to {language}"
        assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(english))
        # And it renders: the error's own path, with a value for each parameter.
        values = dict.fromkeys(PLACEHOLDER.findall(english), count) | {"count": count}
        with translation.override(language):
            assert str(template % values)


def _raise_sites():
    """(file, line, class name, code) of each `SomeError("code", ...)` in the apps."""
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in REFUSALS:
                    first = node.args[0] if node.args else None
                    yield path.relative_to(ROOT), node.lineno, name, first


def test_every_raise_names_a_message_of_its_class():
    classes = {cls.__name__: cls for cls in domain_errors()}
    found = 0
    for path, line, name, first in _raise_sites():
        cls = classes[name]
        if first is None:  # a class with its one message as the default
            assert list(cls.messages) and cls.__init__ is not DomainError.__init__, (path, line)
            continue
        if isinstance(first, ast.Name):  # a code passed on (PriceBook._unknown)
            continue
        assert isinstance(first, ast.Constant), f"{path}:{line}: a code, not a text"
        assert first.value in cls.messages, f"{path}:{line}: {name} has no {first.value!r}"
        found += 1
    assert found > 50


def test_the_message_is_rendered_where_it_is_shown():
    with translation.override("fi"):
        error = subscriptions.services.LicenceError("no_free_licence", count=2)
        assert str(error) == (
            "Kaikki 2 lisenssiä ovat käytössä: osta lisää käyttäjälisenssejä tai poista ensin "
            "käyttäjä käytöstä"
        )
        message = error.message
    with translation.override("sv"):
        assert str(message) == (
            "Alla 2 licenser används: köp fler användarlicenser eller inaktivera först en användare"
        )
    with translation.override("en"):
        assert str(error) == (
            "All 2 licences are in use: buy more seats or deactivate a user first"
        )


def test_a_refusal_keeps_its_code_and_parameters():
    error = subscriptions.quotes.TooFewSeatsError(count=1, seats=4)
    assert (error.code, error.params, error.users_to_deactivate) == (
        "too_few_seats",
        {"count": 1, "seats": 4},
        1,
    )
    assert str(error) == "Deactivate 1 user before reducing seats to 4"
    with translation.override("nb"):
        assert str(error) == "Deaktiver 1 bruker før du reduserer brukerlisensene til 4"


def test_an_unknown_code_is_a_bug():
    with pytest.raises(KeyError, match="QuoteError has no message 'nothing'"):
        subscriptions.pricebook.QuoteError("nothing")


def test_params_are_json_values():
    import datetime
    from decimal import Decimal

    error = billing.invoicing.InvoicingError(
        "credit_exceeds_line",
        line=2,
        left=Decimal("10.00"),
        currency="EUR",
        amount=Decimal("12.50"),
    )
    assert error.params_json() == {"line": 2, "left": "10.00", "currency": "EUR", "amount": "12.50"}
    dated = subscriptions.services.QuoteConflictError(
        "quote_of_another_day", date=datetime.date(2025, 6, 1)
    )
    assert dated.params_json() == {"date": "2025-06-01"}
    assert str(dated).startswith("This quote was made on 2025-06-01;")


def test_a_refusal_survives_pickling():
    import pickle

    error = billing.migration.SellerMigrationError("not_open", status="Done")
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (type(again), again.code, again.params) == (type(error), "not_open", {"status": "Done"})


# The modules are imported for their subclasses; keep the imports used.
assert billing.contacts and billing.rollover and partners.services.activation
assert billing.einvoice.delivery and accounts.outbox
assert issubclass(billing.contacts.LastBillingContactError, DomainError)
