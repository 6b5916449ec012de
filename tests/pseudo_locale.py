"""A test-only pseudo language and the checker of what a reader sees in it.

The language ``xx`` has a catalogue that wraps every translated text in ⟦ ⟧: gettext,
ngettext, pgettext, lazy texts and the templates' {% translate %} and {% blocktranslate %}
all go through it. Dates and money are formatted as in Finnish (numbers only, no English
month names). A page, an e-mail or a document rendered in it shows English only where a text
does not go through the catalogue; ``english_phrases`` finds those.
"""

import re
from collections.abc import Iterable
from html.parser import HTMLParser

from django.conf.locale import LANG_INFO
from django.utils.translation import trans_real

PSEUDO = "xx"
OPEN, CLOSE = "⟦", "⟧"

# Words that are the same in every language the product speaks: product, company and
# standard names, and codes. Each is a name, not a phrase of the interface.
LANGUAGE_NEUTRAL = {
    "Severa",  # the product's name
    "Fortnox",  # accounting systems' product names
    "Visma",
    "eEkonomi",
    "Global",  # part of the product name "Visma Global"
    "Netvisor",
    "Procountor",
    "API",  # the interface's name in every language
    "IBAN",  # international bank account standards' names
    "BIC",
    "Peppol",  # e-invoicing networks and formats
    "Finvoice",
    "UBL",
    "PDF",
    "XML",
    "OAuth",  # the authorisation standard's name
    "TOTP",
    "GB",  # the unit of storage (SI symbol), written so in every language
}
# Currency codes (ISO 4217) shown beside amounts.
CURRENCY_CODES = {"EUR", "SEK", "NOK", "DKK", "USD", "GBP"}


class PseudoTranslation:
    """Stands in for DjangoTranslation: every text wrapped, plural chosen like English."""

    def __init__(self) -> None:
        self._catalog = {}
        self.plural = lambda n: int(n != 1)

    @staticmethod
    def _wrap(message: str) -> str:
        if not message:
            return message
        if trans_real.CONTEXT_SEPARATOR in message:
            message = message.split(trans_real.CONTEXT_SEPARATOR, 1)[1]
        return f"{OPEN}{message}{CLOSE}"

    def gettext(self, message: str) -> str:
        return self._wrap(message)

    def ngettext(self, singular: str, plural: str, number: int) -> str:
        return self._wrap(singular if number == 1 else plural)

    def language(self) -> str:
        return PSEUDO

    def to_language(self) -> str:
        return PSEUDO

    def info(self) -> dict:
        return {}

    def charset(self) -> str:
        return "utf-8"


def install(monkeypatch, settings) -> None:
    """Make ``xx`` a language of the site for one test, and its default."""
    from accounts import locale_format

    settings.LANGUAGES = [*settings.LANGUAGES, (PSEUDO, "Pseudo")]
    settings.LANGUAGE_CODE = PSEUDO
    monkeypatch.setitem(trans_real._translations, PSEUDO, PseudoTranslation())
    monkeypatch.setitem(
        LANG_INFO, PSEUDO, {"bidi": False, "code": PSEUDO, "name": "Pseudo", "name_local": "Xx"}
    )
    monkeypatch.setitem(locale_format.BABEL_LOCALES, PSEUDO, "fi_FI")
    real_check = trans_real.check_for_language

    def check_for_language(lang_code: str) -> bool:
        return lang_code == PSEUDO or real_check(lang_code)

    monkeypatch.setattr(trans_real, "check_for_language", check_for_language)
    trans_real._get_supported_language_variant.cache_clear()
    trans_real.get_languages.cache_clear()


def uninstall() -> None:
    trans_real._get_supported_language_variant.cache_clear()
    trans_real.get_languages.cache_clear()


# What the reader sees of an element's attributes.
VISIBLE_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}
BUTTON_INPUTS = {"submit", "button", "reset"}
INVISIBLE_ELEMENTS = {"script", "style", "template"}
# What the reader copies as it stands, in no language: keys and commands to type.
VERBATIM_ELEMENTS = {"code", "pre", "kbd", "samp"}


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in INVISIBLE_ELEMENTS or tag in VERBATIM_ELEMENTS:
            self._hidden += 1
            return
        values = dict(attrs)
        for name in VISIBLE_ATTRIBUTES:
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and (values.get("type") or "").lower() in BUTTON_INPUTS:
            self.parts.append(values.get("value") or "")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        if tag in INVISIBLE_ELEMENTS or tag in VERBATIM_ELEMENTS:
            self._hidden -= 1

    def handle_endtag(self, tag: str) -> None:
        if (tag in INVISIBLE_ELEMENTS or tag in VERBATIM_ELEMENTS) and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> list[str]:
    """The texts of a page a reader sees, one per element or attribute."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return [part for part in parser.parts if part.strip()]


_WRAPPED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_URL = re.compile(r"(https?://|(?<!\S)/)[\w./?=&%#:+-]*")
# Bank account numbers and codes as printed: "FI21 1234 5600 0007 85".
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4})+(?: ?[A-Z0-9]{1,3})?\b")
# An authenticator's secret key, to type in (base32).
_KEY = re.compile(r"\b[A-Z2-7]{16,}\b")
# A run of words, as a phrase to report (amounts, dates and punctuation end it).
_SEGMENT = re.compile(r"[A-Za-z][A-Za-z0-9 ,'’()/-]*[A-Za-z]|[A-Za-z]{2,}")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")


def _unwrap(text: str) -> str:
    # Innermost first: a translated text may hold another (a button's label in a sentence).
    while True:
        stripped = _WRAPPED.sub(" ", text)
        if stripped == text:
            return stripped
        text = stripped


def names_pattern(names: Iterable[str]) -> re.Pattern:
    """One pattern for the data's names (longest first), matched as whole words."""
    ordered = sorted(
        {name.strip() for name in names if name and name.strip()}, key=len, reverse=True
    )
    alternatives = "|".join(re.escape(name) for name in ordered) or "(?!x)x"
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def english_phrases(texts: Iterable[str], *, names: re.Pattern) -> list[str]:
    """The phrases of ``texts`` that hold a word of two or more Latin letters outside the
    catalogue's texts, the data's names (``names_pattern``), e-mail addresses, addresses of
    pages, numbers, currency codes and the language-neutral words."""
    found = []
    for text in texts:
        rest = _unwrap(text)
        rest = _EMAIL.sub(" ", rest)
        rest = _URL.sub(" ", rest)
        rest = names.sub(" ", rest)
        rest = _IBAN.sub(" ", rest)
        rest = _KEY.sub(" ", rest)
        for segment in _SEGMENT.findall(rest):
            words = [
                word
                for word in _WORD.findall(segment)
                if word not in LANGUAGE_NEUTRAL and word not in CURRENCY_CODES
            ]
            if words:
                found.append(" ".join(segment.split()))
    return found
